//! Evidence: the position a report was made at, how far it can be trusted, and the checks a
//! report must pass before it is submitted.
//!
//! Positions arrive as the shell gives them (any datum, with or without accuracy, possibly
//! from a mock provider) and are stored in WGS-84 beside the source datum and coordinates.
//! An absurd fix is refused; an imprecise or mock fix is kept and flagged, never dropped:
//! the rider may still explain where it was in the address field.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::{DISTRICT_FROM_STATION_WITHIN_M, Report, RequiredField};
use crate::error::{Error, Result};
use crate::geo::{Datum, Position};

/// How far in the future (by this device's clock) a fix time may be before it is refused.
pub const MAX_FIX_TIME_AHEAD_SECS: i64 = 600;

/// Where a report was made, as stored.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ReportPosition {
    /// Latitude, WGS-84.
    pub lat: f64,
    /// Longitude, WGS-84.
    pub lon: f64,
    /// The datum the position arrived in.
    pub datum: Datum,
    /// Latitude as it arrived, in `datum`.
    pub source_lat: f64,
    /// Longitude as it arrived, in `datum`.
    pub source_lon: f64,
    /// Horizontal accuracy in metres (68 % radius, as Android and iOS report it); `None` is
    /// "accuracy unknown", which is never treated as precise.
    pub accuracy_m: Option<f64>,
    /// When the fix was taken.
    pub fix_time: DateTime<Utc>,
    /// True when the platform said the fix came from a mock location provider.
    pub mock: bool,
}

/// Default largest photo, in bytes (10 MiB: a full-resolution phone JPEG fits).
pub const DEFAULT_MAX_PHOTO_BYTES: usize = 10 * 1024 * 1024;
/// Default most photos per report.
pub const DEFAULT_MAX_PHOTOS: usize = 6;

/// The thresholds a report is judged by. Applications may tighten or loosen them.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ReportRules {
    /// Above this accuracy (metres) the report gets a warning (default 50 m).
    #[cfg_attr(feature = "uniffi", uniffi(default = 50.0))]
    pub warn_accuracy_m: f64,
    /// Above this accuracy (metres) the report cannot be submitted (default 500 m).
    #[cfg_attr(feature = "uniffi", uniffi(default = 500.0))]
    pub max_accuracy_m: f64,
    /// Largest photo accepted, in bytes, as the camera wrote it (default 10 MiB).
    #[cfg_attr(feature = "uniffi", uniffi(default = 10485760))]
    pub max_photo_bytes: i64,
    /// Most photos one report can carry (default 6).
    #[cfg_attr(feature = "uniffi", uniffi(default = 6))]
    pub max_photos: i32,
}

impl Default for ReportRules {
    fn default() -> Self {
        ReportRules {
            warn_accuracy_m: 50.0,
            max_accuracy_m: 500.0,
            max_photo_bytes: DEFAULT_MAX_PHOTO_BYTES as i64,
            max_photos: DEFAULT_MAX_PHOTOS as i32,
        }
    }
}

impl ReportRules {
    /// Refuses thresholds that cannot work (negative, NaN, zero, warn above max).
    pub fn check(&self) -> Result<()> {
        let ok = |v: f64| v.is_finite() && v > 0.0;
        if !ok(self.warn_accuracy_m) || !ok(self.max_accuracy_m) {
            return Err(Error::invalid(
                "accuracy thresholds must be finite numbers of metres > 0",
            ));
        }
        if self.max_photo_bytes <= 0 || self.max_photos <= 0 {
            return Err(Error::invalid(format!(
                "photo limits must be greater than 0, got {} bytes and {} photos",
                self.max_photo_bytes, self.max_photos
            )));
        }
        if self.warn_accuracy_m > self.max_accuracy_m {
            return Err(Error::invalid(format!(
                "warning accuracy threshold ({} m) is above the refusal threshold ({} m)",
                self.warn_accuracy_m, self.max_accuracy_m
            )));
        }
        Ok(())
    }

    /// How a fix with this accuracy is judged.
    pub fn accuracy(&self, accuracy_m: Option<f64>) -> AccuracyVerdict {
        match accuracy_m {
            None => AccuracyVerdict::Unknown,
            Some(a) if a > self.max_accuracy_m => AccuracyVerdict::TooImprecise,
            Some(a) if a > self.warn_accuracy_m => AccuracyVerdict::Imprecise,
            Some(_) => AccuracyVerdict::Good,
        }
    }
}

/// How a fix's accuracy is judged by [`ReportRules`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum AccuracyVerdict {
    /// Within the warning threshold.
    Good,
    /// Above the warning threshold: submitted with a warning.
    Imprecise,
    /// Above the refusal threshold: cannot be submitted.
    TooImprecise,
    /// The platform gave no accuracy: submitted with a warning, never treated as precise.
    Unknown,
}

/// Checks a fix from the shell and converts it to WGS-84. Refuses NaN, out-of-range and
/// (0, 0) coordinates, negative or non-finite accuracies and fix times in the future.
pub(crate) fn checked_position(
    lat: f64,
    lon: f64,
    datum: Datum,
    accuracy_m: Option<f64>,
    fix_time: DateTime<Utc>,
    mock: bool,
    now: DateTime<Utc>,
) -> Result<ReportPosition> {
    let wgs = Position::new(lat, lon, datum)?.to_wgs84()?;
    if lat == 0.0 && lon == 0.0 {
        return Err(Error::invalid(
            "position (0, 0) is not a real fix; the location provider gave no position",
        ));
    }
    if let Some(a) = accuracy_m
        && (!a.is_finite() || a <= 0.0)
    {
        return Err(Error::invalid(format!(
            "accuracy must be a finite number of metres > 0 (or absent when unknown), got {a}"
        )));
    }
    if fix_time > now + Duration::seconds(MAX_FIX_TIME_AHEAD_SECS) {
        return Err(Error::invalid(
            "fix time is in the future; check the phone's clock",
        ));
    }
    Ok(ReportPosition {
        lat: wgs.lat,
        lon: wgs.lon,
        datum,
        source_lat: lat,
        source_lon: lon,
        accuracy_m,
        fix_time,
        mock,
    })
}

/// One finding about a report: which field, and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ReportProblem {
    /// The field, e.g. `position`, `merchant_name`, `description`, `district`.
    pub field: String,
    /// What is wrong, in English, without the field's content.
    pub message: String,
}

/// Everything that stops a report being submitted, and everything worth a warning.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ReportCheck {
    /// Problems that stop submission. Empty means the report can be submitted.
    pub problems: Vec<ReportProblem>,
    /// Warnings shown to the reporter; they do not stop submission.
    pub warnings: Vec<ReportProblem>,
}

impl ReportCheck {
    /// True when nothing stops submission.
    pub fn can_submit(&self) -> bool {
        self.problems.is_empty()
    }

    /// Every problem on one line, `field: message; …`.
    pub fn summary(&self) -> String {
        self.problems
            .iter()
            .map(|p| format!("{}: {}", p.field, p.message))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

fn problem(field: &str, message: impl Into<String>) -> ReportProblem {
    ReportProblem {
        field: field.to_string(),
        message: message.into(),
    }
}

fn filled(v: &Option<String>) -> bool {
    v.as_deref().is_some_and(|s| !s.trim().is_empty())
}

/// Every reason `report` cannot be submitted under `rules`, all at once, plus warnings.
/// `district` is the district the report will carry: its own, else the one submission takes
/// from the nearest red station; `None` when neither is known.
pub(crate) fn check(report: &Report, rules: &ReportRules, district: Option<&str>) -> ReportCheck {
    let mut out = ReportCheck::default();
    match &report.position {
        None => out.problems.push(problem(
            "position",
            "missing; every report needs where it was made",
        )),
        Some(p) => {
            match rules.accuracy(p.accuracy_m) {
                AccuracyVerdict::Good => {}
                AccuracyVerdict::Imprecise => out.warnings.push(problem(
                    "position",
                    format!(
                        "accuracy is worse than {} m; the place may be hard to find",
                        rules.warn_accuracy_m
                    ),
                )),
                AccuracyVerdict::TooImprecise => out.problems.push(problem(
                    "position",
                    format!(
                        "accuracy is worse than {} m; wait for a better fix",
                        rules.max_accuracy_m
                    ),
                )),
                AccuracyVerdict::Unknown => {
                    out.warnings.push(problem("position", "accuracy unknown"))
                }
            }
            if p.mock {
                out.warnings.push(problem(
                    "position",
                    "comes from a mock location provider; it is flagged in the report",
                ));
            }
        }
    }
    for need in report.category.required_fields() {
        match need {
            RequiredField::MerchantNameOrAddress => {
                if !filled(&report.merchant_name) && !filled(&report.merchant_address) {
                    out.problems.push(problem(
                        "merchant_name",
                        format!(
                            "a '{}' report needs the merchant's name or address",
                            report.category.code()
                        ),
                    ));
                }
            }
            RequiredField::Description => {
                if !filled(&report.description) {
                    out.problems.push(problem(
                        "description",
                        format!(
                            "a '{}' report needs a description of the problem",
                            report.category.code()
                        ),
                    ));
                }
            }
        }
    }
    if district.is_none() {
        let message = if report.position.is_some() {
            format!(
                "unknown: no installed red station within {} km of the position names one; \
                 set the district (a GB/T 2260 code such as 610113)",
                DISTRICT_FROM_STATION_WITHIN_M / 1000.0
            )
        } else {
            "unknown: set the district, or the position so that it is taken from the nearest \
             red station"
                .to_string()
        };
        out.problems.push(problem("district", message));
    }
    out
}
