//! The figures' arithmetic: pure functions over the cases an account may read
//! ([`CaseRow`]s from `query::visible_cases`, already filtered), so every number on the
//! figures page is a plain count or median of rows the list would show for the same filter.
//!
//! - Months are calendar months in Xi'an (Asia/Shanghai, UTC+8 all year), by submission time.
//! - Open versus closed follows the Open311 export: a case is closed when its fold says
//!   resolved, rejected or duplicate, or when the reporter withdrew the report.
//! - Time to acknowledge runs from submission to the first applied acknowledge event; time to
//!   resolve from submission to the event that resolved the case, for resolved cases only
//!   (rejected and duplicate cases were not resolved). An event stamped before the submission
//!   (a phone's clock set wrong) counts as zero, not as a negative time.
//! - A median of an even number of values is the mean of the middle two, in whole seconds.

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, Offset, Utc};
use std::collections::BTreeMap;
use waystation_core::reports::{CaseStatus, CategoryGroup};

use super::super::query::CaseRow;
use super::super::query::filter::{GROUPS, STATUSES};

/// Longest run of months the by-month figure fills with empty months: past it (a report with a
/// clock decades off) only months that have reports are listed.
pub const MAX_FILLED_MONTHS: usize = 120;

/// Xi'an's offset from UTC (China has no daylight saving time).
fn shanghai() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap_or(Utc.fix())
}

/// The calendar month (its first day) of `t` in Xi'an.
pub fn month_of(t: DateTime<Utc>) -> NaiveDate {
    let local = t.with_timezone(&shanghai()).date_naive();
    local.with_day(1).unwrap_or(local)
}

/// How many cases of each category group, every group listed in display order (zeros too).
pub fn by_group(rows: &[CaseRow]) -> Vec<(CategoryGroup, usize)> {
    GROUPS
        .iter()
        .map(|&g| (g, rows.iter().filter(|r| r.group == g).count()))
        .collect()
}

/// How many cases of each status, every status listed in the order of a case's life.
pub fn by_status(rows: &[CaseRow]) -> Vec<(CaseStatus, usize)> {
    STATUSES
        .iter()
        .map(|&s| (s, rows.iter().filter(|r| r.status == s).count()))
        .collect()
}

/// One month's reports, by category group (in the order of `GROUPS`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonthCounts {
    /// The month's first day.
    pub month: NaiveDate,
    /// Reports of each group, in the order of `GROUPS`.
    pub by_group: [usize; 5],
}

impl MonthCounts {
    /// Every report of the month.
    pub fn total(&self) -> usize {
        self.by_group.iter().sum()
    }

    /// `YYYY-MM`.
    pub fn label(&self) -> String {
        self.month.format("%Y-%m").to_string()
    }
}

fn next_month(m: NaiveDate) -> Option<NaiveDate> {
    let (y, mo) = if m.month() == 12 {
        (m.year() + 1, 1)
    } else {
        (m.year(), m.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, mo, 1)
}

/// Reports per month (Xi'an time) and category group, oldest first, from the first month with
/// a report to the last, months without reports included as zeros (unless the span is over
/// [`MAX_FILLED_MONTHS`]). No rows, no months.
pub fn by_month(rows: &[CaseRow]) -> Vec<MonthCounts> {
    let mut months: BTreeMap<NaiveDate, [usize; 5]> = BTreeMap::new();
    for r in rows {
        let slot = GROUPS.iter().position(|&g| g == r.group).unwrap_or(4);
        months.entry(month_of(r.created)).or_default()[slot] += 1;
    }
    let (Some(&first), Some(&last)) = (months.keys().next(), months.keys().next_back()) else {
        return Vec::new();
    };
    let span = (last.year() - first.year()) * 12 + last.month() as i32 - first.month() as i32;
    if span < MAX_FILLED_MONTHS as i32 {
        let mut m = Some(first);
        while let Some(month) = m.filter(|&m| m < last) {
            months.entry(month).or_default();
            m = next_month(month);
        }
    }
    months
        .into_iter()
        .map(|(month, by_group)| MonthCounts { month, by_group })
        .collect()
}

/// Open and closed cases (closed: resolved, rejected, duplicate, or withdrawn by the reporter).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OpenClosed {
    /// Not closed.
    pub open: usize,
    /// Closed.
    pub closed: usize,
}

/// Whether a case counts as closed in the figures (and in Open311).
pub fn is_closed(r: &CaseRow) -> bool {
    r.status.is_closed() || r.withdrawn
}

/// Open versus closed.
pub fn open_closed(rows: &[CaseRow]) -> OpenClosed {
    let closed = rows.iter().filter(|r| is_closed(r)).count();
    OpenClosed {
        open: rows.len() - closed,
        closed,
    }
}

/// The median of `values` (seconds), `None` when there are none.
pub fn median(values: &mut [i64]) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 1 {
        values[mid]
    } else {
        // The mean of the middle two, without overflow.
        values[mid - 1] + (values[mid] - values[mid - 1]) / 2
    })
}

/// Response times of one district, one station, or all cases.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timing {
    /// The district code or station account; `None` for the row of all cases.
    pub key: Option<String>,
    /// Cases in the group.
    pub cases: usize,
    /// Of those, acknowledged.
    pub acknowledged: usize,
    /// Median time from submission to acknowledgement.
    pub median_acknowledge: Option<Duration>,
    /// Of those, resolved.
    pub resolved: usize,
    /// Median time from submission to resolution.
    pub median_resolve: Option<Duration>,
}

/// Seconds from `from` to `to`, never negative.
fn seconds(from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
    (to - from).num_seconds().max(0)
}

fn timing(key: Option<String>, rows: &[&CaseRow]) -> Timing {
    let mut ack: Vec<i64> = rows
        .iter()
        .filter_map(|r| r.acknowledged_at.map(|t| seconds(r.created, t)))
        .collect();
    let mut res: Vec<i64> = rows
        .iter()
        .filter(|r| r.status == CaseStatus::Resolved)
        .filter_map(|r| r.closed_at.map(|t| seconds(r.created, t)))
        .collect();
    Timing {
        key,
        cases: rows.len(),
        acknowledged: ack.len(),
        median_acknowledge: median(&mut ack).map(Duration::seconds),
        resolved: res.len(),
        median_resolve: median(&mut res).map(Duration::seconds),
    }
}

/// Median response times per value of `key` (rows whose key is `None` are left out), in key
/// order.
pub fn timings_by(rows: &[CaseRow], key: impl Fn(&CaseRow) -> Option<&str>) -> Vec<Timing> {
    let mut groups: BTreeMap<&str, Vec<&CaseRow>> = BTreeMap::new();
    for r in rows {
        if let Some(k) = key(r) {
            groups.entry(k).or_default().push(r);
        }
    }
    groups
        .into_iter()
        .map(|(k, rs)| timing(Some(k.to_string()), &rs))
        .collect()
}

/// Median response times per district.
pub fn timings_by_district(rows: &[CaseRow]) -> Vec<Timing> {
    timings_by(rows, |r| r.district.as_deref())
}

/// Median response times per station (the station staff account that took the case on;
/// cases no station acted on are left out).
pub fn timings_by_station(rows: &[CaseRow]) -> Vec<Timing> {
    timings_by(rows, |r| r.station.as_deref())
}

/// Median response times over all `rows`.
pub fn timings_overall(rows: &[CaseRow]) -> Timing {
    timing(None, &rows.iter().collect::<Vec<_>>())
}

/// Hours, to one decimal, for tables and charts.
pub fn hours(d: Duration) -> f64 {
    (d.num_seconds() as f64 / 360.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use waystation_core::reports::{
        CaseEvent, CaseEventKind, CaseRole, Category, Report, ReportId, ReportStatus, case,
    };

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    /// A submitted report of `category` in `district`, with case `events` applied by the core's
    /// own fold.
    fn row(
        n: u32,
        category: Category,
        district: &str,
        created: DateTime<Utc>,
        events: Vec<(CaseEventKind, CaseRole, &str, DateTime<Utc>)>,
    ) -> CaseRow {
        let id = ReportId::parse(&format!("0190a000-0000-7000-8000-{n:012}")).unwrap();
        let report = Report {
            id: id.clone(),
            author: "rider-1".into(),
            category,
            status: ReportStatus::Submitted,
            description: None,
            merchant_name: None,
            merchant_address: None,
            address: None,
            position: None,
            district: Some(district.to_string()),
            created_at: created,
            submitted_at: Some(created),
            withdrawn_at: None,
            withdraw_reason: None,
            photos: Vec::new(),
            outbox: None,
        };
        let events: Vec<CaseEvent> = events
            .into_iter()
            .enumerate()
            .map(|(i, (kind, role, actor, t))| CaseEvent {
                id: format!("e{n}-{i}"),
                kind,
                role,
                actor: actor.to_string(),
                at: t,
                note: None,
                photos: Vec::new(),
            })
            .collect();
        let view = case::fold(&id, category, events, Vec::new());
        CaseRow::new(report, view)
    }

    fn ack(actor: &str, t: DateTime<Utc>) -> (CaseEventKind, CaseRole, &str, DateTime<Utc>) {
        (CaseEventKind::Acknowledge, CaseRole::StationStaff, actor, t)
    }

    /// A grid worker resolves (station staff may resolve only a station's own problems).
    fn resolve(actor: &str, t: DateTime<Utc>) -> (CaseEventKind, CaseRole, &str, DateTime<Utc>) {
        (CaseEventKind::Resolve, CaseRole::GridWorker, actor, t)
    }

    #[test]
    fn empty_inputs_give_zeros_and_no_medians() {
        assert!(by_month(&[]).is_empty());
        assert!(by_group(&[]).iter().all(|(_, n)| *n == 0));
        assert_eq!(by_group(&[]).len(), 5);
        assert_eq!(by_status(&[]).len(), 6);
        assert_eq!(open_closed(&[]), OpenClosed::default());
        assert!(timings_by_district(&[]).is_empty());
        let all = timings_overall(&[]);
        assert_eq!(
            (all.cases, all.median_acknowledge, all.median_resolve),
            (0, None, None)
        );
        assert_eq!(median(&mut []), None);
    }

    #[test]
    fn medians_of_odd_and_even_counts() {
        assert_eq!(median(&mut [5]), Some(5));
        assert_eq!(median(&mut [9, 1, 5]), Some(5));
        assert_eq!(median(&mut [4, 1, 3, 2]), Some(2)); // (2 + 3) / 2, whole seconds down
        assert_eq!(median(&mut [10, 20]), Some(15));
        assert_eq!(median(&mut [i64::MAX, i64::MAX - 2]), Some(i64::MAX - 1));
    }

    #[test]
    fn months_are_counted_in_xian_time_with_empty_months_filled() {
        let rows = [
            // 2026-09-30 16:30 UTC is 2026-10-01 00:30 in Xi'an: October.
            row(
                1,
                Category::FoodSeal,
                "610113",
                at(2026, 9, 30, 16, 30),
                vec![],
            ),
            // 15:59 UTC is 23:59 in Xi'an: still September.
            row(
                2,
                Category::RoadHazard,
                "610113",
                at(2026, 9, 30, 15, 59),
                vec![],
            ),
            row(
                3,
                Category::FoodHygiene,
                "610103",
                at(2026, 12, 2, 1, 0),
                vec![],
            ),
            row(
                4,
                Category::FoodHygiene,
                "610103",
                at(2026, 10, 5, 1, 0),
                vec![],
            ),
        ];
        let months = by_month(&rows);
        let labels: Vec<String> = months.iter().map(MonthCounts::label).collect();
        assert_eq!(labels, ["2026-09", "2026-10", "2026-11", "2026-12"]);
        assert_eq!(months[0].by_group, [0, 1, 0, 0, 0]);
        assert_eq!(months[1].by_group, [2, 0, 0, 0, 0]);
        assert_eq!(months[2].total(), 0);
        assert_eq!(months[3].by_group, [1, 0, 0, 0, 0]);
        assert_eq!(
            by_group(&rows),
            [
                (CategoryGroup::Food, 3),
                (CategoryGroup::Road, 1),
                (CategoryGroup::Access, 0),
                (CategoryGroup::Station, 0),
                (CategoryGroup::Other, 0)
            ]
        );
    }

    #[test]
    fn a_span_of_decades_lists_only_the_months_with_reports() {
        let rows = [
            row(1, Category::Other, "610113", at(1990, 1, 5, 0, 0), vec![]),
            row(2, Category::Other, "610113", at(2026, 11, 5, 0, 0), vec![]),
        ];
        let labels: Vec<String> = by_month(&rows).iter().map(MonthCounts::label).collect();
        assert_eq!(labels, ["1990-01", "2026-11"]);
    }

    #[test]
    fn open_versus_closed_counts_withdrawn_reports_as_closed() {
        let t0 = at(2026, 11, 30, 2, 0);
        let mut withdrawn = row(3, Category::Other, "610113", t0, vec![]);
        withdrawn.withdrawn = true;
        let rows = [
            row(1, Category::Other, "610113", t0, vec![ack("st-1", t0)]),
            row(
                2,
                Category::Other,
                "610113",
                t0,
                vec![resolve("grid-1", t0)],
            ),
            withdrawn,
        ];
        assert_eq!(open_closed(&rows), OpenClosed { open: 1, closed: 2 });
        let statuses = by_status(&rows);
        assert_eq!(statuses[1], (CaseStatus::Acknowledged, 1));
        assert_eq!(statuses[3], (CaseStatus::Resolved, 1));
        assert_eq!(statuses[0], (CaseStatus::Open, 1));
    }

    #[test]
    fn response_times_per_district_and_station() {
        let t0 = at(2026, 11, 30, 2, 0);
        let h = Duration::hours;
        let rows = [
            // Yanta: acknowledged after 1 h and 3 h, one resolved after 10 h.
            row(
                1,
                Category::FoodSeal,
                "610113",
                t0,
                vec![ack("st-a", t0 + h(1))],
            ),
            row(
                2,
                Category::FoodSeal,
                "610113",
                t0,
                vec![ack("st-b", t0 + h(3)), resolve("grid-1", t0 + h(10))],
            ),
            // Beilin: acknowledged "before" submission (a phone's clock): zero; then resolved.
            row(
                3,
                Category::RoadHazard,
                "610103",
                t0,
                vec![ack("st-a", t0 - h(2)), resolve("grid-1", t0 + h(4))],
            ),
            // Beilin: never acted on.
            row(4, Category::RoadHazard, "610103", t0, vec![]),
        ];
        let d = timings_by_district(&rows);
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].key.as_deref(), Some("610103"));
        assert_eq!((d[0].cases, d[0].acknowledged, d[0].resolved), (2, 1, 1));
        assert_eq!(d[0].median_acknowledge, Some(Duration::zero()));
        assert_eq!(d[0].median_resolve, Some(h(4)));
        assert_eq!(d[1].key.as_deref(), Some("610113"));
        assert_eq!(d[1].median_acknowledge, Some(h(2)));
        assert_eq!(d[1].median_resolve, Some(h(10)));

        let s = timings_by_station(&rows);
        let keys: Vec<_> = s.iter().map(|t| t.key.as_deref().unwrap()).collect();
        assert_eq!(keys, ["st-a", "st-b"]);
        assert_eq!(s[0].cases, 2);
        assert_eq!(s[0].median_acknowledge, Some(Duration::minutes(30)));

        let all = timings_overall(&rows);
        assert_eq!((all.cases, all.acknowledged, all.resolved), (4, 3, 2));
        assert_eq!(all.median_acknowledge, Some(h(1)));
        assert_eq!(all.median_resolve, Some(h(7)));
        assert_eq!(hours(h(7) + Duration::minutes(20)), 7.3);
    }
}
