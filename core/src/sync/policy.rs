//! Who may read and write which synced document, and what an incoming change may do.
//!
//! The server (`waystation-server`) enforces these rules on every change a device sends; they
//! live here, next to the document formats they read, so the server and the devices agree on
//! them. The rules (also in `docs/sync-protocol.md`):
//!
//! - **Reports** (`report:<uuid>`): written only by their author, and only once submitted
//!   (drafts stay on the device). A submitted report is immutable except for withdrawal; a
//!   withdrawn one is immutable. Read by the author and by follow-up roles (station staff,
//!   supervisors, grid workers) whose areas include the report's district; admins read all.
//! - **Cases** (`case:<uuid>`): written by follow-up roles of the report's district. Events
//!   are append-only: an existing event never changes, and each new event names the writer
//!   as its actor, the writer's role, and an event the role may write for the report's
//!   category ([`crate::reports::case::role_may`]). The document keeps its canonical genesis,
//!   holds only known fields and one value under every key, its changes are made by actors of
//!   the sending account, and new events have bounded fields and times
//!   ([`crate::reports::case::integrity`]). Read by whoever may read the report.
//! - **Training progress** (`progress:<user>`): read and written by its owner only.

use automerge::{AutoCommit, Change};
use chrono::{DateTime, Utc};
use std::fmt;
use std::str::FromStr;

use crate::reports::case::{self, CASE_SCHEMA, CaseRole};
use crate::reports::document::{self, REPORT_KIND};
use crate::reports::{Category, Report, ReportId, ReportStatus};
use crate::store::documents::root_str;
use crate::training::progress::{PROGRESS_KIND, PROGRESS_SCHEMA};

/// Largest Automerge sync message the server accepts for one document, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 2 * 1024 * 1024;
/// Largest saved document the server keeps, in bytes: the store's limit on a document from
/// elsewhere, one number for the device and the server.
pub const MAX_DOCUMENT_BYTES: usize = crate::store::documents::MAX_FOREIGN_DOCUMENT_BYTES;
pub use crate::util::bounds::{MAX_INFLATED_MESSAGE_BYTES, MAX_OPS_PER_MESSAGE};
// The message bound is twice the document limit (util::bounds cannot name the store's).
const _: () = assert!(MAX_INFLATED_MESSAGE_BYTES == 2 * MAX_DOCUMENT_BYTES);
/// Most bytes a whole stored document may hold once every deflated part is inflated, whatever
/// number of messages built it. Its compressed size says little: 50 million equal characters
/// deflate to about 100 KB, and every device that loads the document inflates them.
pub const MAX_INFLATED_DOCUMENT_BYTES: usize = 4 * MAX_DOCUMENT_BYTES;
/// Most operations a whole stored document may hold (see [`MAX_INFLATED_DOCUMENT_BYTES`]).
pub const MAX_OPS_PER_DOCUMENT: u64 = 1_000_000;
/// Longest user id, in bytes.
pub const MAX_USER_ID_BYTES: usize = 64;

/// A server account's role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum Role {
    /// Files reports, reads their cases.
    Rider,
    /// Red-station staff.
    Station,
    /// Volunteer food-safety supervisor.
    Supervisor,
    /// Community grid worker.
    Grid,
    /// Reads everything except others' training progress; writes no case.
    Admin,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 5] = [
        Role::Rider,
        Role::Station,
        Role::Supervisor,
        Role::Grid,
        Role::Admin,
    ];

    /// The stable name: `rider`, `station`, `supervisor`, `grid`, `admin`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Rider => "rider",
            Role::Station => "station",
            Role::Supervisor => "supervisor",
            Role::Grid => "grid",
            Role::Admin => "admin",
        }
    }

    /// The role this account writes case events as, if it writes any.
    pub fn case_role(self) -> Option<CaseRole> {
        match self {
            Role::Station => Some(CaseRole::StationStaff),
            Role::Supervisor => Some(CaseRole::Supervisor),
            Role::Grid => Some(CaseRole::GridWorker),
            Role::Rider | Role::Admin => None,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Role, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                let shown: String = s.chars().take(40).collect();
                format!(
                    "unknown role '{shown}'; expected rider, station, supervisor, grid or admin"
                )
            })
    }
}

/// The authenticated account a request comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    /// User id.
    pub user: String,
    /// Role.
    pub role: Role,
    /// District codes this account follows up.
    pub areas: Vec<String>,
}

impl Account {
    /// Whether this account follows up reports in `district`.
    pub fn covers(&self, district: Option<&str>) -> bool {
        match self.role {
            Role::Admin => true,
            Role::Rider => false,
            _ => district.is_some_and(|d| self.areas.iter().any(|a| a == d)),
        }
    }
}

/// Checks a user id: 1..=64 bytes of ASCII letters, digits, `.`, `_`, `-` and `@`, not
/// starting with `.` (so it is never a path component like `..`).
pub fn check_user_id(user: &str) -> Result<(), String> {
    let ok_chars = user
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'@'));
    if user.is_empty() || user.len() > MAX_USER_ID_BYTES || !ok_chars || user.starts_with('.') {
        let shown: String = user.chars().take(40).collect();
        return Err(format!(
            "invalid user id '{shown}': use 1 to {MAX_USER_ID_BYTES} letters, digits, '.', '_', \
             '-' or '@', not starting with '.'"
        ));
    }
    Ok(())
}

/// Checks a district code: one of Xi'an's 13 districts and counties (GB/T 2260, see
/// [`crate::geo::XIAN_DISTRICTS`]).
pub fn check_district(code: &str) -> Result<(), String> {
    crate::reports::check_district(code).map_err(|e| match e {
        crate::Error::InvalidInput(reason) => reason,
        other => other.to_string(),
    })
}

/// What a synced document is, from its id and kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DocRef {
    /// `report:<uuid>`.
    Report(ReportId),
    /// `case:<uuid>`: the case of that report.
    Case(ReportId),
    /// `progress:<user>`.
    Progress(String),
}

impl DocRef {
    /// Parses a document id and checks it against the kind the sender named. Anything else
    /// (an unknown kind, an id that looks like a path, a kind that does not match the id) is
    /// refused with the reason.
    pub fn parse(doc_id: &str, kind: &str) -> Result<DocRef, String> {
        let shown: String = doc_id.chars().take(80).collect();
        if doc_id.len() > super::protocol::MAX_DOC_ID_BYTES {
            return Err(format!("document id '{shown}…' is too long"));
        }
        let (prefix, rest) = doc_id
            .split_once(':')
            .ok_or_else(|| format!("invalid document id '{shown}': expected '<kind>:<key>'"))?;
        let parsed = match prefix {
            "report" => ReportId::parse(rest)
                .map(DocRef::Report)
                .map_err(|e| e.to_string()),
            "case" => ReportId::parse(rest)
                .map(DocRef::Case)
                .map_err(|e| e.to_string()),
            "progress" => check_user_id(rest).map(|()| DocRef::Progress(rest.to_string())),
            _ => Err(format!(
                "unknown document kind in id '{shown}'; expected report, case or progress"
            )),
        }
        .map_err(|e| format!("invalid document id '{shown}': {e}"))?;
        if parsed.kind() != kind {
            let kind: String = kind.chars().take(40).collect();
            return Err(format!(
                "document '{shown}' is a {} document, not '{kind}'",
                parsed.kind()
            ));
        }
        Ok(parsed)
    }

    /// The document kind: `report`, `case` or `training-progress`.
    pub fn kind(&self) -> &'static str {
        match self {
            DocRef::Report(_) => REPORT_KIND,
            DocRef::Case(_) => case::CASE_KIND,
            DocRef::Progress(_) => PROGRESS_KIND,
        }
    }

    /// The document id.
    pub fn doc_id(&self) -> String {
        match self {
            DocRef::Report(id) => id.doc_id(),
            DocRef::Case(id) => case::case_doc_id(id),
            DocRef::Progress(user) => crate::training::progress::progress_doc_id(user),
        }
    }
}

/// What the server stores beside a report so it can decide access without loading it.
#[derive(Clone, Debug, PartialEq)]
pub struct ReportFacts {
    /// The author's user id.
    pub author: String,
    /// The category.
    pub category: Category,
    /// The district the report is in, when known.
    pub district: Option<String>,
    /// Submitted or withdrawn.
    pub status: ReportStatus,
    /// SHA-256 of each attached photo.
    pub photos: Vec<String>,
    /// When it was submitted (created, for a report without a submission time): no case
    /// event is dated before it.
    pub time: DateTime<Utc>,
}

/// Reads a report document the way the server sees it.
pub fn report_facts(doc: &AutoCommit) -> Result<ReportFacts, String> {
    Ok(facts_of(read_report(doc)?))
}

fn facts_of(report: Report) -> ReportFacts {
    ReportFacts {
        district: report.district,
        author: report.author,
        category: report.category,
        status: report.status,
        time: report.submitted_at.unwrap_or(report.created_at),
        photos: report.photos.into_iter().map(|p| p.sha256).collect(),
    }
}

fn read_report(doc: &AutoCommit) -> Result<Report, String> {
    document::read(doc).map_err(|e| {
        let e = e.to_string();
        format!(
            "not a readable report: {}",
            e.strip_prefix("internal error: ").unwrap_or(&e)
        )
    })
}

/// Checks a report document after a device's changes were applied to the server's copy
/// (`before`, `None` when the server had none). Returns what the server stores beside it.
pub fn check_report(
    writer: &Account,
    id: &ReportId,
    before: Option<&AutoCommit>,
    after: &AutoCommit,
) -> Result<ReportFacts, String> {
    if let Some(field) = document::unknown_root_field(after) {
        return Err(format!(
            "report document has an unknown field '{}'",
            field
                .chars()
                .take(40)
                .flat_map(char::escape_debug)
                .collect::<String>()
        ));
    }
    let report = read_report(after)?;
    if &report.id != id {
        return Err(format!("report document claims id '{}'", report.id));
    }
    if report.author != writer.user {
        return Err(format!(
            "report '{id}' is by '{}'; only its author can write it",
            report.author
        ));
    }
    if report.status == ReportStatus::Draft {
        return Err(format!(
            "report '{id}' is a draft; drafts stay on the device until submitted"
        ));
    }
    check_report_content(&report)?;
    if let Some(d) = &report.district {
        check_district(d)?;
    }
    if let Some(before) = before {
        let old = read_report(before)?;
        // The district is a field of the report, so it is frozen with the rest.
        let frozen = |r: &Report| Report {
            withdrawn_at: None,
            withdraw_reason: None,
            status: ReportStatus::Submitted,
            outbox: None,
            ..r.clone()
        };
        if frozen(&old) != frozen(&report) {
            return Err(format!(
                "report '{id}' was submitted; only withdrawal may change it"
            ));
        }
        if old.status == ReportStatus::Withdrawn && old != report {
            return Err(format!("report '{id}' was withdrawn; it cannot change"));
        }
    }
    Ok(facts_of(report))
}

fn check_report_content(r: &Report) -> Result<(), String> {
    use crate::reports::{
        MAX_ADDRESS_CHARS, MAX_DESCRIPTION_CHARS, MAX_MERCHANT_NAME_CHARS, MAX_REASON_CHARS,
    };
    let fields = [
        ("description", &r.description, MAX_DESCRIPTION_CHARS),
        ("merchant_name", &r.merchant_name, MAX_MERCHANT_NAME_CHARS),
        ("merchant_address", &r.merchant_address, MAX_ADDRESS_CHARS),
        ("address", &r.address, MAX_ADDRESS_CHARS),
        ("withdraw_reason", &r.withdraw_reason, MAX_REASON_CHARS),
    ];
    for (name, value, max) in fields {
        if let Some(v) = value
            && v.chars().count() > max
        {
            return Err(format!("report field {name} is over {max} characters"));
        }
    }
    if let Some(p) = &r.position
        && !(p.lat.is_finite()
            && p.lon.is_finite()
            && (-90.0..=90.0).contains(&p.lat)
            && (-180.0..=180.0).contains(&p.lon))
    {
        return Err("report position is not a valid coordinate".into());
    }
    if r.photos.len() > crate::reports::DEFAULT_MAX_PHOTOS {
        return Err(format!(
            "report has {} photos; at most {} are allowed",
            r.photos.len(),
            crate::reports::DEFAULT_MAX_PHOTOS
        ));
    }
    if let Some(bad) = r
        .photos
        .iter()
        .find(|p| !super::protocol::is_sha256_hex(&p.sha256))
    {
        return Err(format!("report photo '{}' is not a SHA-256", bad.sha256));
    }
    Ok(())
}

/// What a device's message did to a case document on the server.
pub struct CaseUpdate<'a> {
    /// The server's copy before the message, `None` when it had none.
    pub before: Option<&'a AutoCommit>,
    /// The copy with the message's changes applied.
    pub after: &'a AutoCommit,
    /// The changes the message added.
    pub new_changes: &'a [Change],
    /// The server's clock.
    pub now: DateTime<Utc>,
}

/// Checks a case document after a device's changes were applied to the server's copy.
/// `report` is what the server knows of the report the case follows up.
pub fn check_case(
    writer: &Account,
    id: &ReportId,
    report: &ReportFacts,
    update: CaseUpdate<'_>,
) -> Result<(), String> {
    let Some(role) = writer.role.case_role() else {
        return Err(format!(
            "a {} cannot write case events; only station staff, supervisors and grid workers \
             follow up reports",
            writer.role
        ));
    };
    if !writer.covers(report.district.as_deref()) {
        // The district is not named: the writer may not be allowed to read the report.
        return Err(format!("report '{id}' is outside this account's areas"));
    }
    let after = update.after;
    if root_str(after, "schema").as_deref() != Some(CASE_SCHEMA)
        || root_str(after, "report").as_deref() != Some(id.as_str())
    {
        return Err(format!("document is not the case of report '{id}'"));
    }
    case::integrity::check_structure(after, id)?;
    let read = case::read_events(after);
    if let Some(bad) = read.unreadable.first().or(read.disputed.first()) {
        // check_structure refuses both; this is the reader's own view of it.
        return Err(format!("case event '{bad}' is unreadable or disputed"));
    }
    let events = read.events;
    let old: Vec<case::CaseEvent> = update
        .before
        .map(|b| case::read_events(b).events)
        .unwrap_or_default();
    for e in &old {
        match events.iter().find(|n| n.id == e.id) {
            Some(n) if n == e => {}
            _ => return Err(format!("case event '{}' was changed or removed", e.id)),
        }
    }
    for e in events.iter().filter(|n| !old.iter().any(|o| o.id == n.id)) {
        if e.actor != writer.user || e.role != role {
            return Err(format!(
                "case event '{}' claims actor or role of another account; this account writes \
                 as {role}",
                e.id
            ));
        }
        if !case::role_may(role, &e.kind, report.category) {
            return Err(format!(
                "a {role} may not {} a case of category {}",
                e.kind.name(),
                report.category.code()
            ));
        }
        case::integrity::check_new_event(e, id, report.time, update.now)?;
    }
    // Last: the events are this account's, now the changes that carry them must be too.
    case::integrity::check_authors(&writer.user, id, update.new_changes)
}

/// Checks a training progress document: only its owner writes it, its content keeps the
/// progress layout within bounds, and a change only adds to what `before` (the stored
/// document) records (`training::progress_check`).
pub fn check_progress(
    writer: &Account,
    user: &str,
    before: Option<&AutoCommit>,
    after: &AutoCommit,
) -> Result<(), String> {
    if writer.user != user {
        return Err("training progress is private to its owner".into());
    }
    if root_str(after, "schema").as_deref() != Some(PROGRESS_SCHEMA)
        || root_str(after, "user").as_deref() != Some(user)
    {
        return Err(format!("document is not the training progress of '{user}'"));
    }
    crate::training::progress_check::check_progress_update(before, after)
}

/// Whether `reader` may read a document of `kind` owned by `owner` in `district` (the
/// report's district, for reports and cases).
pub fn may_read(reader: &Account, kind: &str, owner: &str, district: Option<&str>) -> bool {
    match kind {
        k if k == REPORT_KIND || k == case::CASE_KIND => {
            owner == reader.user || reader.covers(district)
        }
        k if k == PROGRESS_KIND => owner == reader.user,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(user: &str, role: Role, areas: &[&str]) -> Account {
        Account {
            user: user.into(),
            role,
            areas: areas.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn doc_ids_are_parsed_and_paths_refused() {
        let id = "report:0190a8a4-7c1e-7000-8000-000000000001";
        assert!(matches!(DocRef::parse(id, "report"), Ok(DocRef::Report(_))));
        assert!(
            DocRef::parse(id, "case")
                .unwrap_err()
                .contains("is a report document")
        );
        assert!(DocRef::parse("report:../../etc/passwd", "report").is_err());
        assert!(DocRef::parse("progress:../x", "training-progress").is_err());
        assert!(DocRef::parse("progress:alice", "training-progress").is_ok());
        assert!(
            DocRef::parse("shadow:x", "shadow")
                .unwrap_err()
                .contains("unknown document kind")
        );
        assert!(DocRef::parse("noprefix", "report").is_err());
        assert!(
            DocRef::parse(
                &format!("progress:{}", "a".repeat(300)),
                "training-progress"
            )
            .is_err()
        );
    }

    #[test]
    fn reading_follows_roles_and_areas() {
        let rider = account("r1", Role::Rider, &[]);
        let staff = account("s1", Role::Station, &["610113"]);
        let admin = account("a", Role::Admin, &[]);
        assert!(may_read(&rider, "report", "r1", Some("610104")));
        assert!(!may_read(&rider, "report", "r2", Some("610104")));
        assert!(may_read(&staff, "case", "r2", Some("610113")));
        assert!(!may_read(&staff, "case", "r2", Some("610104")));
        assert!(!may_read(&staff, "report", "r2", None));
        assert!(may_read(&admin, "report", "r2", None));
        assert!(!may_read(&admin, "training-progress", "r2", None));
        assert!(may_read(&rider, "training-progress", "r1", None));
        assert!(!may_read(&rider, "something", "r1", None));
    }

    #[test]
    fn user_ids_and_roles() {
        assert!(check_user_id("rider-01@xian").is_ok());
        assert!(check_user_id("").is_err());
        assert!(check_user_id("..").is_err());
        assert!(check_user_id("a/b").is_err());
        assert_eq!("grid".parse::<Role>(), Ok(Role::Grid));
        assert!("boss".parse::<Role>().unwrap_err().contains("unknown role"));
        assert!(check_district("610113").is_ok());
        assert!(check_district("61011").is_err());
        assert!(check_district("110101").is_err(), "Beijing is not Xi'an");
    }
}
