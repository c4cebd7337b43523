//! The console's one way to read cases: [`visible_cases`] returns every case an account may
//! read through `/v1`, decoded with the core's own report model and case fold, filtered and
//! sorted by a [`CaseFilter`]. The list, the case page, the map, the figures, the CSV and the
//! Open311 feed all call it, so no page has an access rule of its own.
//!
//! Access is the sync feed's: the store's feed query for the account's reader
//! (`sync::reader`), every row checked again with `policy::may_read`, exactly what a device
//! of that account is listed. A report the account could not sync is not here, nor its case.

use chrono::{DateTime, Utc};
use std::collections::HashMap;
use waystation_core::reports::{
    CaseEventKind, CaseRole, CaseStatus, CaseView, Category, CategoryGroup, Report, ReportId,
    ReportStatus, case, read_report_document,
};
use waystation_core::sync::policy::{self, Account};

use crate::documents;
use crate::error::ApiError;
use crate::store::StoreTx;

mod cache;
pub mod filter;

pub use filter::{CaseFilter, FilterError, SortDir, SortKey, StatusFilter};

/// One case as the console shows it: the report, its case folded, and the facts the list,
/// the map and the figures use.
#[derive(Clone, Debug)]
pub struct CaseRow {
    /// The report.
    pub report_id: ReportId,
    /// The case document's id (`case:<report uuid>`).
    pub case_id: String,
    /// The report's category.
    pub category: Category,
    /// Its group (food safety, road, …).
    pub group: CategoryGroup,
    /// GB/T 2260 district code.
    pub district: Option<String>,
    /// The station staff account that first acknowledged the case, if one did (reports carry
    /// no station of their own: this is the station that took it on).
    pub station: Option<String>,
    /// The grid the case is dispatched to.
    pub grid_id: Option<String>,
    /// The merchant's name.
    pub merchant: Option<String>,
    /// The merchant's address.
    pub merchant_address: Option<String>,
    /// Where the problem is, in words.
    pub address: Option<String>,
    /// What the problem is.
    pub description: Option<String>,
    /// WGS-84 latitude and longitude.
    pub position: Option<(f64, f64)>,
    /// When the report was submitted.
    pub created: DateTime<Utc>,
    /// The folded status.
    pub status: CaseStatus,
    /// Whether the reporter withdrew the report.
    pub withdrawn: bool,
    /// When the case was first acknowledged (an applied acknowledge event).
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// When it was closed (the applied event that closed it last), while it is closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// Time of the newest event.
    pub updated_at: Option<DateTime<Utc>>,
    /// The report's photos (SHA-256).
    pub photos: Vec<String>,
    /// The reporter's account id.
    pub author: String,
    /// The whole report, as the core reads it.
    pub report: Report,
    /// The whole case, as the core folds it.
    pub case: CaseView,
}

impl CaseRow {
    /// Builds the row of `report` and its case.
    pub fn new(report: Report, case: CaseView) -> CaseRow {
        let applied = || case.timeline.iter().filter(|e| e.applied);
        let acknowledged_at = applied()
            .find(|e| e.event.kind == CaseEventKind::Acknowledge)
            .map(|e| e.event.at);
        let station = applied()
            .find(|e| e.event.role == CaseRole::StationStaff)
            .map(|e| e.event.actor.clone());
        let closed_at = if case.status.is_closed() {
            applied()
                .filter(|e| {
                    matches!(
                        e.event.kind,
                        CaseEventKind::Resolve
                            | CaseEventKind::Reject { .. }
                            | CaseEventKind::MarkDuplicate { .. }
                    )
                })
                .map(|e| e.event.at)
                .next_back()
        } else {
            None
        };
        CaseRow {
            report_id: report.id.clone(),
            case_id: case::case_doc_id(&report.id),
            category: report.category,
            group: report.category.group(),
            district: report.district.clone(),
            station,
            grid_id: case.grid_id.clone(),
            merchant: report.merchant_name.clone(),
            merchant_address: report.merchant_address.clone(),
            address: report.address.clone(),
            description: report.description.clone(),
            position: report.position.as_ref().map(|p| (p.lat, p.lon)),
            created: report.submitted_at.unwrap_or(report.created_at),
            status: case.status,
            withdrawn: report.status == ReportStatus::Withdrawn,
            acknowledged_at,
            closed_at,
            updated_at: case.updated_at,
            photos: report.photos.iter().map(|p| p.sha256.clone()).collect(),
            author: report.author.clone(),
            report,
            case,
        }
    }
}

/// Every case `account` may read through `/v1` that `filter` matches, sorted by its sort key,
/// not paged ([`page`] pages). `now` is for the age filters.
pub fn visible_cases(
    tx: &dyn StoreTx,
    account: &Account,
    filter: &CaseFilter,
    now: DateTime<Utc>,
) -> Result<Vec<CaseRow>, ApiError> {
    let readable = readable_docs(tx, account)?;
    let mut rows = Vec::new();
    for entry in readable.reports {
        if filter
            .district
            .as_deref()
            .is_some_and(|d| entry.district.as_deref() != Some(d))
        {
            continue;
        }
        let case_doc = readable.cases.get(&entry.case_id());
        let Some(row) = decode_row(tx, &entry, case_doc)? else {
            continue;
        };
        if filter.matches(&row, now) {
            rows.push(row);
        }
    }
    filter.sort(&mut rows);
    Ok(rows)
}

/// The one case `report_id` if `account` may read it through `/v1`, else `None` (the same
/// answer for a case that does not exist).
pub fn visible_case(
    tx: &dyn StoreTx,
    account: &Account,
    report_id: &ReportId,
) -> Result<Option<CaseRow>, ApiError> {
    let doc_id = report_id.doc_id();
    let Some((access, heads)) = tx.doc_heads(&doc_id)? else {
        return Ok(None);
    };
    if access.kind != "report"
        || !policy::may_read(
            account,
            &access.kind,
            &access.owner,
            access.district.as_deref(),
        )
    {
        return Ok(None);
    }
    let entry = Readable {
        doc_id,
        district: access.district,
        heads,
    };
    let case_id = entry.case_id();
    let case_doc = match tx.doc_heads(&case_id)? {
        Some((a, heads)) if policy::may_read(account, &a.kind, &a.owner, a.district.as_deref()) => {
            Some(Readable {
                doc_id: case_id,
                district: a.district,
                heads,
            })
        }
        _ => None,
    };
    decode_row(tx, &entry, case_doc.as_ref())
}

/// A readable document of the feed: its id, district and heads (the cache's key).
#[derive(Clone, Debug)]
pub(crate) struct Readable {
    doc_id: String,
    district: Option<String>,
    heads: Vec<u8>,
}

impl Readable {
    fn case_id(&self) -> String {
        format!(
            "case:{}",
            self.doc_id.strip_prefix("report:").unwrap_or(&self.doc_id)
        )
    }
}

struct ReadableDocs {
    reports: Vec<Readable>,
    cases: HashMap<String, Readable>,
}

/// Feed rows read per store call.
const FEED_PAGE: usize = 1000;

/// Every report and case the account's devices would be listed, from the feed.
fn readable_docs(tx: &dyn StoreTx, account: &Account) -> Result<ReadableDocs, ApiError> {
    let reader = crate::sync::reader(account);
    let mut after = 0;
    let mut docs = ReadableDocs {
        reports: Vec::new(),
        cases: HashMap::new(),
    };
    loop {
        let rows = tx.feed(&reader, after, FEED_PAGE)?;
        let Some(last) = rows.last() else { break };
        after = last.position;
        let full = rows.len() == FEED_PAGE;
        for row in rows {
            let a = &row.access;
            if !policy::may_read(account, &a.kind, &a.owner, a.district.as_deref()) {
                continue;
            }
            let entry = Readable {
                doc_id: row.doc_id,
                district: row.access.district,
                heads: row.heads,
            };
            match row.access.kind.as_str() {
                "report" => docs.reports.push(entry),
                "case" => {
                    docs.cases.insert(entry.doc_id.clone(), entry);
                }
                _ => {}
            }
        }
        if !full {
            break;
        }
    }
    Ok(docs)
}

/// Decodes a report and its case (through the cache, keyed by their heads). A stored report
/// the core cannot read (never accepted by the sync checks, so only damage) is left out and
/// logged, without its content.
fn decode_row(
    tx: &dyn StoreTx,
    report: &Readable,
    case_doc: Option<&Readable>,
) -> Result<Option<CaseRow>, ApiError> {
    let Some(decoded) = cache::report(&report.doc_id, &report.heads, || {
        let Some(stored) = documents::load(tx, &report.doc_id)? else {
            return Ok(None);
        };
        match read_report_document(&stored.doc) {
            Ok(r) => Ok(Some(r)),
            Err(_) => {
                eprintln!(
                    "waystation-server: console: stored report {} does not read as a report",
                    report.doc_id
                );
                Ok(None)
            }
        }
    })?
    else {
        return Ok(None);
    };
    if decoded.status == ReportStatus::Draft {
        return Ok(None);
    }
    let view = match case_doc {
        None => case::view_document(None, &decoded),
        Some(c) => cache::case(&c.doc_id, &c.heads, &report.heads, || {
            let doc = documents::load(tx, &c.doc_id)?.map(|s| s.doc);
            Ok(case::view_document(doc.as_ref(), &decoded))
        })?,
    };
    Ok(Some(CaseRow::new((*decoded).clone(), view)))
}

/// One page of a sorted list.
#[derive(Debug)]
pub struct Page<'a> {
    /// The rows of this page.
    pub rows: &'a [CaseRow],
    /// This page, from 1.
    pub page: usize,
    /// How many pages (at least 1).
    pub pages: usize,
    /// How many rows in all.
    pub total: usize,
}

/// The page `filter` asks for (the last one when it asks past the end).
pub fn page<'a>(rows: &'a [CaseRow], filter: &CaseFilter) -> Page<'a> {
    let size = filter.page_size.max(1);
    let pages = rows.len().div_ceil(size).max(1);
    let page = filter.page.clamp(1, pages);
    let start = (page - 1) * size;
    let end = (start + size).min(rows.len());
    Page {
        rows: &rows[start.min(end)..end],
        page,
        pages,
        total: rows.len(),
    }
}
