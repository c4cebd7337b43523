//! What the case page offers to pick from, so that a desk worker does not type ids by hand:
//! the reports this case may duplicate (for "mark duplicate") and the grids of its district
//! (for "dispatch").
//!
//! **Duplicates.** The core's own search (`Reports::nearby_duplicates`, with
//! `DuplicateRules`) runs on a phone's SQLite report index, which the server does not have;
//! the server holds documents. So the rule is the core's, applied here to the cases the account
//! may read ([`query::visible_cases`], the one access rule): the same category, submitted and
//! not withdrawn, measured with the core's geodesic distance (`geo::distance_m`), nearest
//! first, ties by id. Two things differ, because a case is looked at from a desk days after it
//! came in, not by a rider about to report: the window is [`CANDIDATE_WINDOW_DAYS`] either
//! side of this report's submission (not "before now"), and the radius is
//! [`CANDIDATE_RADIUS_M`] (a rider's phone suggests within 50 m of where they stand; two
//! riders' fixes of one kitchen door, often taken indoors, differ by more). A report already
//! marked as a duplicate of this one is not offered: the two would close each other and
//! nobody would follow the problem.
//!
//! **Grids.** The server knows no list of grids: an account has a role and districts, not a
//! grid, and a grid id is whatever a dispatch named (`小寨路网格-03`). The grids offered are
//! those earlier dispatches named in cases of the same district that the account may read,
//! most used first; a new grid can still be typed. Grid-worker accounts are not offered: an
//! account id is not a grid id, and a dispatch to it would name a grid that does not exist.

use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use waystation_core::geo::distance_m;
use waystation_core::reports::CaseEventKind;
use waystation_core::sync::policy::Account;

use super::super::query::{self, CaseFilter, CaseRow};
use crate::error::ApiError;
use crate::store::StoreTx;

/// Largest distance between two reports offered as duplicates, in metres.
pub(crate) const CANDIDATE_RADIUS_M: f64 = 300.0;
/// Largest time between the two reports' submissions, in days, either way.
pub(crate) const CANDIDATE_WINDOW_DAYS: i64 = 14;
/// Most duplicate candidates offered (the nearest).
pub(crate) const MAX_CANDIDATES: usize = 10;
/// Most grids offered.
pub(crate) const MAX_GRIDS: usize = 50;

/// A report that may be the same problem as the case's.
pub(crate) struct Candidate {
    /// Its case, as the list shows it.
    pub(crate) row: CaseRow,
    /// Geodesic distance between the two reports' positions, in metres.
    pub(crate) distance_m: f64,
}

/// What the case page's forms offer.
#[derive(Default)]
pub(crate) struct Choices {
    /// Duplicate candidates, nearest first (only when the account may mark a duplicate now).
    pub(crate) duplicates: Vec<Candidate>,
    /// Grid ids used in the district, most used first (only when it may dispatch now).
    pub(crate) grids: Vec<String>,
}

/// The choices for `row`'s forms, given the actions `allowed` now; no store read when neither
/// mark_duplicate nor dispatch is.
pub(crate) fn for_case(
    tx: &dyn StoreTx,
    account: &Account,
    row: &CaseRow,
    allowed: &[&str],
    now: DateTime<Utc>,
) -> Result<Choices, ApiError> {
    let wants_duplicates = allowed.contains(&"mark_duplicate");
    let wants_grids = allowed.contains(&"dispatch");
    if !wants_duplicates && !wants_grids {
        return Ok(Choices::default());
    }
    let all = query::visible_cases(tx, account, &CaseFilter::default(), now)?;
    Ok(Choices {
        duplicates: if wants_duplicates {
            duplicates(row, &all)
        } else {
            Vec::new()
        },
        grids: if wants_grids {
            grids(row, &all)
        } else {
            Vec::new()
        },
    })
}

/// The cases of `all` that may duplicate `row` (see the module docs), nearest first.
pub(crate) fn duplicates(row: &CaseRow, all: &[CaseRow]) -> Vec<Candidate> {
    let Some((lat, lon)) = row.position else {
        return Vec::new();
    };
    let window = Duration::days(CANDIDATE_WINDOW_DAYS);
    let mut out: Vec<Candidate> = all
        .iter()
        .filter(|o| {
            o.report_id != row.report_id
                && o.category == row.category
                && !o.withdrawn
                && (o.created - row.created).abs() <= window
                && o.case.duplicate_of.as_ref() != Some(&row.report_id)
        })
        .filter_map(|o| {
            let (olat, olon) = o.position?;
            let d = distance_m(lat, lon, olat, olon);
            (d <= CANDIDATE_RADIUS_M).then(|| Candidate {
                row: o.clone(),
                distance_m: d,
            })
        })
        .collect();
    out.sort_by(|a, b| {
        a.distance_m
            .total_cmp(&b.distance_m)
            .then_with(|| a.row.report_id.cmp(&b.row.report_id))
    });
    out.truncate(MAX_CANDIDATES);
    out
}

/// The grid ids dispatches named in cases of `row`'s district, most used first, then by id.
pub(crate) fn grids(row: &CaseRow, all: &[CaseRow]) -> Vec<String> {
    let Some(district) = row.district.as_deref() else {
        return Vec::new();
    };
    let mut used: HashMap<&str, usize> = HashMap::new();
    for o in all
        .iter()
        .filter(|o| o.district.as_deref() == Some(district))
    {
        for e in &o.case.timeline {
            if let CaseEventKind::Dispatch { grid_id } = &e.event.kind {
                *used.entry(grid_id.as_str()).or_default() += 1;
            }
        }
    }
    let mut grids: Vec<(&str, usize)> = used.into_iter().collect();
    grids.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    grids
        .into_iter()
        .take(MAX_GRIDS)
        .map(|(g, _)| g.to_string())
        .collect()
}
