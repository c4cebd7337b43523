//! Nearby duplicates: before submitting, suggest existing reports of the same problem.
//!
//! Following FixMyStreet, a rider about to report something is shown the reports of the same
//! category made within [`DuplicateRules::radius_m`] (50 m by default) over the last
//! [`DuplicateRules::max_age_days`] (7 by default), nearest first, so they can follow the
//! existing report instead of filing a second one.
//!
//! Candidates are every report stored on this device other than the one being checked, the
//! reporter's own and those synced from others, that is submitted and not withdrawn. Drafts are
//! not reports yet (and never leave their phone); withdrawn reports were taken back by their
//! reporter. Age is measured from submission to now, by the injected clock.
//!
//! The search runs on the report index ([`super::index`]): a bounding box around the report in
//! SQL, over the `(category, submitted_at, lat, lon, status)` index, narrows the candidates;
//! the exact geodesic distance decides. Only the reports that match are loaded.

use serde::Serialize;

use super::Report;
use super::case::CaseStatus;
use crate::error::{Error, Result};

/// Longest window accepted, in days (ten years).
pub const MAX_DUPLICATE_AGE_DAYS: i32 = 3650;

/// How far and how far back to look for duplicates.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct DuplicateRules {
    /// Largest distance, in metres (finite, >= 0; default 50 m).
    #[cfg_attr(feature = "uniffi", uniffi(default = 50.0))]
    pub radius_m: f64,
    /// Oldest submission considered, in days before now (at most
    /// [`MAX_DUPLICATE_AGE_DAYS`]).
    #[cfg_attr(feature = "uniffi", uniffi(default = 7))]
    pub max_age_days: i32,
}

impl Default for DuplicateRules {
    fn default() -> Self {
        DuplicateRules {
            radius_m: 50.0,
            max_age_days: 7,
        }
    }
}

impl DuplicateRules {
    /// Refuses a NaN, infinite or negative radius and a window over the maximum.
    pub fn check(&self) -> Result<()> {
        if !self.radius_m.is_finite() || self.radius_m < 0.0 {
            return Err(Error::invalid(format!(
                "duplicate radius must be a finite number of metres >= 0, got {}",
                self.radius_m
            )));
        }
        if !(0..=MAX_DUPLICATE_AGE_DAYS).contains(&self.max_age_days) {
            return Err(Error::invalid(format!(
                "duplicate window must be 0 to {MAX_DUPLICATE_AGE_DAYS} days, got {}",
                self.max_age_days
            )));
        }
        Ok(())
    }
}

/// A report that may be the same problem.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct DuplicateCandidate {
    /// The existing report.
    pub report: Report,
    /// Geodesic distance between the two reports' positions, in metres.
    pub distance_m: f64,
    /// Where its case stands (e.g. already resolved).
    pub case_status: CaseStatus,
}
