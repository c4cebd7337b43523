//! [`CaseFilter`]: what a console list, map, figure or export asks for, from its query
//! string, with an error naming the parameter for every value it cannot use.
//!
//! Parameters (all optional; empty values are ignored, so a plain GET form works):
//! `district` (GB/T 2260 code), `category` (code, e.g. `food.seal`), `group` (`food`,
//! `road`, `access`, `station`, `other`), `status` (a case status, or `active` / `closed`),
//! `after` / `before` (dates `YYYY-MM-DD` in Asia/Shanghai: opened on or after, before),
//! `min_age` / `max_age` (whole days since the report was submitted), `q` (text in the
//! merchant, merchant address, address or description: a substring, case-insensitive for
//! Latin letters, so `外卖` finds `某某外卖店`), `sort` (`created`, `updated`, `status`,
//! `category`, `district`, `merchant`), `dir` (`asc`, `desc`), `page` (from 1), `size` (rows
//! per page, 1 to 200). Others (`lang`, Open311's own) are left to their readers.

use chrono::{DateTime, FixedOffset, NaiveDate, Offset, TimeZone, Utc};
use std::fmt;
use waystation_core::reports::{CaseStatus, Category, CategoryGroup};

use super::CaseRow;

/// Rows per page unless `size` says otherwise.
pub const DEFAULT_PAGE_SIZE: usize = 25;
/// Most rows per page.
pub const MAX_PAGE_SIZE: usize = 200;
/// Longest search text, in characters.
pub const MAX_QUERY_CHARS: usize = 100;

/// A status filter: one status, or every open or every closed one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusFilter {
    /// Exactly this status.
    Is(CaseStatus),
    /// Not closed (open, acknowledged, in progress).
    Active,
    /// Closed (resolved, rejected, duplicate).
    Closed,
}

impl StatusFilter {
    /// The query-string value.
    pub fn code(self) -> &'static str {
        match self {
            StatusFilter::Is(s) => s.as_str(),
            StatusFilter::Active => "active",
            StatusFilter::Closed => "closed",
        }
    }

    fn matches(self, s: CaseStatus) -> bool {
        match self {
            StatusFilter::Is(x) => x == s,
            StatusFilter::Active => !s.is_closed(),
            StatusFilter::Closed => s.is_closed(),
        }
    }
}

/// Every case status, in the order of a case's life.
pub const STATUSES: [CaseStatus; 6] = [
    CaseStatus::Open,
    CaseStatus::Acknowledged,
    CaseStatus::InProgress,
    CaseStatus::Resolved,
    CaseStatus::Rejected,
    CaseStatus::Duplicate,
];

/// Every category group.
pub const GROUPS: [CategoryGroup; 5] = [
    CategoryGroup::Food,
    CategoryGroup::Road,
    CategoryGroup::Access,
    CategoryGroup::Station,
    CategoryGroup::Other,
];

/// The stable name of a group (its code's first part).
pub fn group_code(g: CategoryGroup) -> &'static str {
    match g {
        CategoryGroup::Food => "food",
        CategoryGroup::Road => "road",
        CategoryGroup::Access => "access",
        CategoryGroup::Station => "station",
        CategoryGroup::Other => "other",
    }
}

/// What a list is sorted by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SortKey {
    /// Submission time (the default).
    #[default]
    Created,
    /// Time of the newest event (no event: submission time).
    Updated,
    /// Status, in the order of a case's life.
    Status,
    /// Category code.
    Category,
    /// District code.
    District,
    /// Merchant name.
    Merchant,
}

impl SortKey {
    /// Every key.
    pub const ALL: [SortKey; 6] = [
        SortKey::Created,
        SortKey::Updated,
        SortKey::Status,
        SortKey::Category,
        SortKey::District,
        SortKey::Merchant,
    ];

    /// The query-string value.
    pub fn code(self) -> &'static str {
        match self {
            SortKey::Created => "created",
            SortKey::Updated => "updated",
            SortKey::Status => "status",
            SortKey::Category => "category",
            SortKey::District => "district",
            SortKey::Merchant => "merchant",
        }
    }
}

/// Sort direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortDir {
    /// Smallest first.
    Asc,
    /// Largest (newest) first.
    Desc,
}

impl SortDir {
    /// The query-string value.
    pub fn code(self) -> &'static str {
        match self {
            SortDir::Asc => "asc",
            SortDir::Desc => "desc",
        }
    }
}

/// A filter, sort and page of the console's case list.
#[derive(Clone, Debug, PartialEq)]
pub struct CaseFilter {
    /// Only this district.
    pub district: Option<String>,
    /// Only this category.
    pub category: Option<Category>,
    /// Only this category group.
    pub group: Option<CategoryGroup>,
    /// Only these statuses.
    pub status: Option<StatusFilter>,
    /// Opened on or after this day (Asia/Shanghai).
    pub after: Option<NaiveDate>,
    /// Opened before this day (Asia/Shanghai).
    pub before: Option<NaiveDate>,
    /// At least this many whole days old.
    pub min_age: Option<u32>,
    /// At most this many whole days old.
    pub max_age: Option<u32>,
    /// Text to find.
    pub q: Option<String>,
    /// Sort key.
    pub sort: SortKey,
    /// Sort direction.
    pub dir: SortDir,
    /// Page, from 1.
    pub page: usize,
    /// Rows per page.
    pub page_size: usize,
}

impl Default for CaseFilter {
    fn default() -> CaseFilter {
        CaseFilter {
            district: None,
            category: None,
            group: None,
            status: None,
            after: None,
            before: None,
            min_age: None,
            max_age: None,
            q: None,
            sort: SortKey::Created,
            dir: SortDir::Desc,
            page: 1,
            page_size: DEFAULT_PAGE_SIZE,
        }
    }
}

/// A query-string value the filter cannot use: the parameter and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterError {
    /// The parameter.
    pub param: &'static str,
    /// What is wrong, with the value shortened.
    pub message: String,
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "parameter '{}': {}", self.param, self.message)
    }
}

impl std::error::Error for FilterError {}

fn shown(v: &str) -> String {
    v.chars().take(40).collect()
}

fn bad(param: &'static str, message: String) -> FilterError {
    FilterError { param, message }
}

/// Asia/Shanghai: UTC+8, no daylight saving.
fn shanghai() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| Utc.fix())
}

fn start_of(day: NaiveDate) -> DateTime<Utc> {
    let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    shanghai()
        .from_local_datetime(&midnight)
        .single()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

impl CaseFilter {
    /// Parses a query string (`None`: no query). Unknown parameters are ignored; a known one
    /// with a value it cannot use is an error naming it.
    pub fn parse(query: Option<&str>) -> Result<CaseFilter, FilterError> {
        let mut f = CaseFilter::default();
        let Some(query) = query else {
            return Ok(f);
        };
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            let v = value.trim();
            if v.is_empty() {
                continue;
            }
            match key.as_ref() {
                "district" => {
                    waystation_core::sync::policy::check_district(v)
                        .map_err(|e| bad("district", e))?;
                    f.district = Some(v.to_string());
                }
                "category" => {
                    f.category = Some(v.parse::<Category>().map_err(|_| {
                        bad(
                            "category",
                            format!("'{}' is not a category code (e.g. food.seal)", shown(v)),
                        )
                    })?)
                }
                "group" => {
                    f.group = Some(
                        GROUPS
                            .into_iter()
                            .find(|g| group_code(*g) == v)
                            .ok_or_else(|| {
                                bad(
                                    "group",
                                    format!(
                                        "'{}' is not a group; expected food, road, access, \
                                         station or other",
                                        shown(v)
                                    ),
                                )
                            })?,
                    )
                }
                "status" => {
                    f.status = Some(match v {
                        "active" => StatusFilter::Active,
                        "closed" => StatusFilter::Closed,
                        _ => StatusFilter::Is(
                            STATUSES
                                .into_iter()
                                .find(|s| s.as_str() == v)
                                .ok_or_else(|| {
                                    bad(
                                        "status",
                                        format!(
                                            "'{}' is not a status; expected open, acknowledged, \
                                         in_progress, resolved, rejected, duplicate, active or \
                                         closed",
                                            shown(v)
                                        ),
                                    )
                                })?,
                        ),
                    })
                }
                "after" => f.after = Some(date("after", v)?),
                "before" => f.before = Some(date("before", v)?),
                "min_age" => f.min_age = Some(number("min_age", v, 36_500)? as u32),
                "max_age" => f.max_age = Some(number("max_age", v, 36_500)? as u32),
                "q" => {
                    if v.chars().count() > MAX_QUERY_CHARS {
                        return Err(bad(
                            "q",
                            format!("the search text is over {MAX_QUERY_CHARS} characters"),
                        ));
                    }
                    f.q = Some(v.to_string());
                }
                "sort" => {
                    f.sort = SortKey::ALL
                        .into_iter()
                        .find(|k| k.code() == v)
                        .ok_or_else(|| {
                            bad(
                                "sort",
                                format!(
                                    "'{}' is not a sort key; expected created, updated, status, \
                                     category, district or merchant",
                                    shown(v)
                                ),
                            )
                        })?
                }
                "dir" => {
                    f.dir = match v {
                        "asc" => SortDir::Asc,
                        "desc" => SortDir::Desc,
                        _ => {
                            return Err(bad("dir", format!("'{}' is not asc or desc", shown(v))));
                        }
                    }
                }
                "page" => f.page = number("page", v, 1_000_000)?.max(1),
                "size" => {
                    let n = number("size", v, MAX_PAGE_SIZE)?;
                    if n == 0 {
                        return Err(bad("size", format!("must be 1 to {MAX_PAGE_SIZE}")));
                    }
                    f.page_size = n;
                }
                _ => {}
            }
        }
        if let (Some(a), Some(b)) = (f.after, f.before)
            && a >= b
        {
            return Err(bad("before", "must be a later day than 'after'".into()));
        }
        if let (Some(lo), Some(hi)) = (f.min_age, f.max_age)
            && lo > hi
        {
            return Err(bad("max_age", "must not be less than 'min_age'".into()));
        }
        Ok(f)
    }

    /// The query string of this filter (defaults left out), for links that keep it; `page`
    /// and `sort`/`dir` replaced when given.
    pub fn to_query(&self, page: Option<usize>, sort: Option<(SortKey, SortDir)>) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        if let Some(d) = &self.district {
            q.append_pair("district", d);
        }
        if let Some(c) = self.category {
            q.append_pair("category", c.code());
        }
        if let Some(g) = self.group {
            q.append_pair("group", group_code(g));
        }
        if let Some(s) = self.status {
            q.append_pair("status", s.code());
        }
        if let Some(d) = self.after {
            q.append_pair("after", &d.to_string());
        }
        if let Some(d) = self.before {
            q.append_pair("before", &d.to_string());
        }
        if let Some(n) = self.min_age {
            q.append_pair("min_age", &n.to_string());
        }
        if let Some(n) = self.max_age {
            q.append_pair("max_age", &n.to_string());
        }
        if let Some(s) = &self.q {
            q.append_pair("q", s);
        }
        let (sort, dir) = sort.unwrap_or((self.sort, self.dir));
        if (sort, dir) != (SortKey::Created, SortDir::Desc) {
            q.append_pair("sort", sort.code());
            q.append_pair("dir", dir.code());
        }
        if self.page_size != DEFAULT_PAGE_SIZE {
            q.append_pair("size", &self.page_size.to_string());
        }
        let page = page.unwrap_or(self.page);
        if page > 1 {
            q.append_pair("page", &page.to_string());
        }
        q.finish()
    }

    /// Whether `row` passes every filter (the district is also checked before decoding).
    pub fn matches(&self, row: &CaseRow, now: DateTime<Utc>) -> bool {
        if self
            .district
            .as_deref()
            .is_some_and(|d| row.district.as_deref() != Some(d))
            || self.category.is_some_and(|c| c != row.category)
            || self.group.is_some_and(|g| g != row.group)
            || self.status.is_some_and(|s| !s.matches(row.status))
            || self.after.is_some_and(|d| row.created < start_of(d))
            || self.before.is_some_and(|d| row.created >= start_of(d))
        {
            return false;
        }
        let age = (now - row.created).num_days().max(0);
        if self.min_age.is_some_and(|n| age < i64::from(n))
            || self.max_age.is_some_and(|n| age > i64::from(n))
        {
            return false;
        }
        match &self.q {
            None => true,
            Some(q) => {
                let q = q.to_lowercase();
                [
                    &row.merchant,
                    &row.merchant_address,
                    &row.address,
                    &row.description,
                ]
                .into_iter()
                .flatten()
                .any(|text| text.to_lowercase().contains(&q))
                    || row.report_id.as_str() == q
            }
        }
    }

    /// Sorts by the key and direction; ties by submission time, newest first, then id.
    pub fn sort(&self, rows: &mut [CaseRow]) {
        let rank = |s: CaseStatus| STATUSES.iter().position(|x| *x == s).unwrap_or(0);
        rows.sort_by(|a, b| {
            let primary = match self.sort {
                SortKey::Created => a.created.cmp(&b.created),
                SortKey::Updated => a
                    .updated_at
                    .unwrap_or(a.created)
                    .cmp(&b.updated_at.unwrap_or(b.created)),
                SortKey::Status => rank(a.status).cmp(&rank(b.status)),
                SortKey::Category => a.category.code().cmp(b.category.code()),
                SortKey::District => a.district.cmp(&b.district),
                SortKey::Merchant => a.merchant.cmp(&b.merchant),
            };
            let primary = match self.dir {
                SortDir::Asc => primary,
                SortDir::Desc => primary.reverse(),
            };
            primary
                .then_with(|| b.created.cmp(&a.created))
                .then_with(|| a.report_id.cmp(&b.report_id))
        });
    }
}

fn date(param: &'static str, v: &str) -> Result<NaiveDate, FilterError> {
    NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .map_err(|_| bad(param, format!("'{}' is not a date YYYY-MM-DD", shown(v))))
}

fn number(param: &'static str, v: &str, max: usize) -> Result<usize, FilterError> {
    match v.parse::<usize>() {
        Ok(n) if n <= max => Ok(n),
        _ => Err(bad(
            param,
            format!("'{}' is not a whole number from 0 to {max}", shown(v)),
        )),
    }
}

#[cfg(test)]
mod tests;
