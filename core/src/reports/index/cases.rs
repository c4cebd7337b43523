//! The follow-up view: the cases of a district, for station, supervisor and grid accounts.
//!
//! A follow-up account's device holds the reports of its districts and their cases, as its
//! last sync brought them; this lists them offline, newest problem first, with each one's
//! age and where its case stands. The reports come from the index (district, submission time)
//! without loading their documents; each listed report's case document is loaded and folded,
//! since the case status is derived from its event log (`docs/formats/case-status.md`), never
//! stored as a field that could race.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use serde::Serialize;

use super::{SUMMARY_COLUMNS, SummaryRow};
use crate::error::Result;
use crate::reports::case::{self, CaseStatus, Open311Status};
use crate::reports::model::check_district;
use crate::reports::{ReportStatus, ReportSummary};
use crate::store::documents;

/// Which cases [`crate::reports::Cases::list`] lists. The default lists every
/// submitted report the device holds, whatever its case status.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CaseQuery {
    /// Only reports in these districts (GB/T 2260 codes of Xi'an); empty means every district.
    #[cfg_attr(feature = "uniffi", uniffi(default = []))]
    pub districts: Vec<String>,
    /// Only cases in one of these statuses; empty means every status.
    #[cfg_attr(feature = "uniffi", uniffi(default = []))]
    pub statuses: Vec<CaseStatus>,
    /// Also list reports their reporter withdrew (their case is closed for Open311 whatever
    /// its events say, and they need no follow-up, so they are left out by default).
    #[cfg_attr(feature = "uniffi", uniffi(default = false))]
    pub include_withdrawn: bool,
}

/// One case as a follow-up list shows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CaseSummary {
    /// The report, as the index holds it.
    pub report: ReportSummary,
    /// Where the case stands, folded from its events.
    pub status: CaseStatus,
    /// `open` or `closed` for Open311 (a withdrawn report is `closed`).
    pub open311_status: Open311Status,
    /// The grid the case is dispatched to, if any.
    pub grid_id: Option<String>,
    /// When the case's newest event happened, if it has any.
    pub case_updated_at: Option<DateTime<Utc>>,
    /// Seconds since the report was submitted, at the device clock's now: how long the
    /// problem has been known.
    pub age_seconds: i64,
}

/// The inbox: the cases of the reports `conn` holds, newest submission first, filtered by
/// `query`, each with its age at `now`. Every district code is checked first; an unknown one is
/// [`crate::Error::InvalidInput`] naming it. The index must be current
/// (`Waystation::ensure_report_index`).
pub(crate) fn list(
    conn: &Connection,
    query: &CaseQuery,
    now: DateTime<Utc>,
) -> Result<Vec<CaseSummary>> {
    for d in &query.districts {
        check_district(d)?;
    }
    let districts = serde_json::to_string(&query.districts)
        .map_err(|e| crate::Error::Internal(format!("district list: {e}")))?;
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {SUMMARY_COLUMNS} FROM report_index \
         WHERE (status = 'submitted' OR (?1 AND status = 'withdrawn')) \
         AND (json_array_length(?2) = 0 OR district IN (SELECT value FROM json_each(?2))) \
         ORDER BY submitted_at DESC, report_id DESC"
    ))?;
    let rows = stmt.query_map(
        params![query.include_withdrawn, districts],
        SummaryRow::read,
    )?;
    let mut out = Vec::new();
    for row in rows {
        let report = row?.summary()?;
        let doc = documents::load(conn, &case::case_doc_id(&report.id))?;
        let view = case::view(doc.as_ref(), &report.id, report.category);
        if !query.statuses.is_empty() && !query.statuses.contains(&view.status) {
            continue;
        }
        let open311_status = if report.status == ReportStatus::Withdrawn {
            Open311Status::Closed
        } else {
            view.open311_status
        };
        let since = report.submitted_at.unwrap_or(report.created_at);
        out.push(CaseSummary {
            age_seconds: (now - since).num_seconds().max(0),
            status: view.status,
            open311_status,
            grid_id: view.grid_id,
            case_updated_at: view.updated_at,
            report,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo::Datum;
    use crate::reports::{CaseEventKind, CaseRole, PositionFix, ReportPatch, ReportRules};
    use crate::{Error, FixedClock, Options, Waystation};
    use chrono::{Duration, TimeZone};
    use std::sync::Arc;

    const BEILIN: &str = "610103";
    const YANTA: &str = "610113";

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 30, 4, 0, 0).unwrap()
    }

    fn submitted(ws: &Waystation, author: &str, district: &str) -> String {
        let id = ws.reports().create_draft(author, "road.hazard").unwrap();
        ws.reports()
            .update_draft(
                id.as_str(),
                &ReportPatch {
                    description: Some("井盖缺失".into()),
                    district: Some(district.into()),
                    ..Default::default()
                },
            )
            .unwrap();
        ws.reports()
            .set_position(
                id.as_str(),
                &PositionFix {
                    lat: 34.25953,
                    lon: 108.94235,
                    datum: Datum::Wgs84,
                    accuracy_m: Some(8.0),
                    fix_time: ws.now(),
                    mock: false,
                },
            )
            .unwrap();
        ws.reports()
            .submit(author, id.as_str(), &ReportRules::default())
            .unwrap();
        id.to_string()
    }

    fn ids(list: &[CaseSummary]) -> Vec<&str> {
        list.iter().map(|c| c.report.id.as_str()).collect()
    }

    #[test]
    fn a_district_s_cases_newest_first_with_status_and_age() {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(FixedClock::new(t0()));
        let ws =
            Waystation::open_with_clock(dir.path(), Options::default(), clock.clone()).unwrap();
        let a = submitted(&ws, "rider-1", BEILIN);
        clock.set(t0() + Duration::hours(1));
        let b = submitted(&ws, "rider-2", YANTA);
        clock.set(t0() + Duration::hours(2));
        let c = submitted(&ws, "rider-3", BEILIN);
        let withdrawn = submitted(&ws, "rider-1", BEILIN);
        ws.reports()
            .withdraw("rider-1", &withdrawn, "已自行处理")
            .unwrap();
        let draft = ws.reports().create_draft("rider-1", "road.hazard").unwrap();
        ws.cases()
            .record(
                &c,
                "sup-1",
                CaseRole::Supervisor,
                CaseEventKind::Resolve,
                "已修复",
            )
            .unwrap();
        clock.set(t0() + Duration::hours(3));

        // Every author's reports, not only the caller's; drafts and withdrawn ones left out.
        let all = ws.cases().list(&CaseQuery::default()).unwrap();
        assert_eq!(ids(&all), [c.as_str(), b.as_str(), a.as_str()]);
        assert!(!ids(&all).contains(&draft.as_str()));

        let beilin = ws
            .cases()
            .list(&CaseQuery {
                districts: vec![BEILIN.into()],
                ..Default::default()
            })
            .unwrap();
        assert_eq!(ids(&beilin), [c.as_str(), a.as_str()]);
        assert_eq!(beilin[0].status, CaseStatus::Resolved);
        assert_eq!(beilin[0].open311_status, Open311Status::Closed);
        assert_eq!(beilin[0].case_updated_at, Some(t0() + Duration::hours(2)));
        assert_eq!(beilin[1].status, CaseStatus::Open);
        assert_eq!(beilin[1].age_seconds, 3 * 3600);
        assert_eq!(beilin[1].report.author, "rider-1");

        let open = ws
            .cases()
            .list(&CaseQuery {
                districts: vec![BEILIN.into(), YANTA.into()],
                statuses: vec![CaseStatus::Open, CaseStatus::InProgress],
                ..Default::default()
            })
            .unwrap();
        assert_eq!(ids(&open), [b.as_str(), a.as_str()]);

        let with_withdrawn = ws
            .cases()
            .list(&CaseQuery {
                districts: vec![BEILIN.into()],
                include_withdrawn: true,
                ..Default::default()
            })
            .unwrap();
        let w = with_withdrawn
            .iter()
            .find(|s| s.report.id.as_str() == withdrawn)
            .unwrap();
        assert_eq!(w.report.status, ReportStatus::Withdrawn);
        assert_eq!(w.open311_status, Open311Status::Closed);

        match ws.cases().list(&CaseQuery {
            districts: vec!["999999".into()],
            ..Default::default()
        }) {
            Err(Error::InvalidInput(m)) => assert!(m.contains("999999"), "{m}"),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
}
