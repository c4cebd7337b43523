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

#[cfg(test)]
mod tests {
    use super::*;
    use waystation_core::geo::Datum;
    use waystation_core::reports::case::{fold, view_document};
    use waystation_core::reports::{
        CaseEvent, CaseRole, Category, Report, ReportId, ReportPosition, ReportStatus,
    };

    const BASE_LAT: f64 = 34.2231;
    const BASE_LON: f64 = 108.9452;

    fn at(days: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap() + Duration::days(days)
    }

    /// A submitted report `n` of `category` in Yanta, `north_m` metres north of a fixed point,
    /// submitted `days` after a fixed day.
    fn report(n: u32, category: Category, north_m: f64, days: i64) -> Report {
        let lat = BASE_LAT + north_m / 111_195.0;
        Report {
            id: ReportId::parse(&format!("01900000-0000-7000-8000-{n:012}")).unwrap(),
            author: "rider-1".into(),
            category,
            status: ReportStatus::Submitted,
            description: None,
            merchant_name: None,
            merchant_address: None,
            address: None,
            position: Some(ReportPosition {
                lat,
                lon: BASE_LON,
                datum: Datum::Wgs84,
                source_lat: lat,
                source_lon: BASE_LON,
                accuracy_m: Some(8.0),
                fix_time: at(days),
                mock: false,
            }),
            district: Some("610113".into()),
            created_at: at(days),
            submitted_at: Some(at(days)),
            withdrawn_at: None,
            withdraw_reason: None,
            photos: vec![],
            outbox: None,
        }
    }

    fn row(r: Report) -> CaseRow {
        let view = view_document(None, &r);
        CaseRow::new(r, view)
    }

    /// `r`'s row with the case folded from `kinds`, by a supervisor.
    fn row_with(r: Report, kinds: Vec<CaseEventKind>) -> CaseRow {
        let events = kinds
            .into_iter()
            .enumerate()
            .map(|(i, kind)| CaseEvent {
                id: format!("01900000-0000-7000-8000-0000000001{i:02}"),
                kind,
                actor: "sup".into(),
                role: CaseRole::Supervisor,
                at: r.created_at + Duration::minutes(i as i64 + 1),
                note: None,
                photos: vec![],
            })
            .collect();
        let view = fold(&r.id, r.category, events, vec![]);
        CaseRow::new(r, view)
    }

    fn ids(c: &[Candidate]) -> Vec<String> {
        c.iter().map(|c| c.row.report_id.to_string()).collect()
    }

    #[test]
    fn candidates_are_the_same_category_near_in_place_and_time_nearest_first() {
        use Category::{FoodSeal, RoadHazard};
        let this = row(report(1, FoodSeal, 0.0, 0));
        let mut withdrawn = report(7, FoodSeal, 10.0, 0);
        withdrawn.status = ReportStatus::Withdrawn;
        let mut no_position = report(8, FoodSeal, 0.0, 0);
        no_position.position = None;
        let all = vec![
            this.clone(),
            row(report(2, FoodSeal, 250.0, -13)), // in: 250 m, 13 days before
            row(report(3, FoodSeal, 40.0, 13)),   // in: nearest, 13 days after
            row(report(4, FoodSeal, 320.0, 0)),   // out: past the radius
            row(report(5, FoodSeal, 10.0, 15)),   // out: past the window
            row(report(6, RoadHazard, 5.0, 0)),   // out: another category
            row(withdrawn),                       // out: withdrawn
            row(no_position),                     // out: no position
            // out: already a duplicate of this one (they would close each other)
            row_with(
                report(9, FoodSeal, 20.0, 0),
                vec![CaseEventKind::MarkDuplicate {
                    of: this.report_id.to_string(),
                }],
            ),
        ];
        let found = duplicates(&this, &all);
        assert_eq!(
            ids(&found),
            [
                "01900000-0000-7000-8000-000000000003",
                "01900000-0000-7000-8000-000000000002"
            ]
        );
        assert!(
            (found[0].distance_m - 40.0).abs() < 1.0,
            "{}",
            found[0].distance_m
        );
        // A report without a position has no candidates.
        let mut lost = report(10, FoodSeal, 0.0, 0);
        lost.position = None;
        assert!(duplicates(&row(lost), &all).is_empty());
        // At most MAX_CANDIDATES, the nearest.
        let many: Vec<CaseRow> = (11..30)
            .map(|n| row(report(n, FoodSeal, f64::from(n), 0)))
            .collect();
        let found = duplicates(&this, &many);
        assert_eq!(found.len(), MAX_CANDIDATES);
        assert_eq!(
            found[0].row.report_id.as_str(),
            "01900000-0000-7000-8000-000000000011"
        );
    }

    #[test]
    fn grids_are_those_dispatched_to_in_the_district_most_used_first() {
        let dispatch = |g: &str| CaseEventKind::Dispatch { grid_id: g.into() };
        let mut elsewhere = report(4, Category::RoadHazard, 0.0, 0);
        elsewhere.district = Some("610103".into());
        let this = row(report(1, Category::FoodSeal, 0.0, 0));
        let all = vec![
            row_with(
                report(2, Category::RoadHazard, 0.0, 0),
                vec![dispatch("b-02"), dispatch("a-01")],
            ),
            row_with(
                report(3, Category::FoodSeal, 0.0, 0),
                vec![dispatch("a-01")],
            ),
            row_with(elsewhere, vec![dispatch("碑林-01")]),
        ];
        assert_eq!(grids(&this, &all), ["a-01", "b-02"]);
        let mut nowhere = report(5, Category::FoodSeal, 0.0, 0);
        nowhere.district = None;
        assert!(grids(&row(nowhere), &all).is_empty());
    }
}
