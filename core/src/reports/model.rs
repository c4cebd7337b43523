//! The report model: ids, statuses, the report as the device holds it, the draft patch and
//! the position fix, the limits on what a report may hold, and the checks every entry point
//! shares. Plain data: nothing here touches the store.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use std::fmt;

use super::{Category, ReportPhoto, ReportPosition};
use crate::error::{Error, Result};
use crate::geo::{Datum, District, XIAN_DISTRICTS};

/// Longest description, in characters (Open311 GeoReport v2 allows 4,000).
pub const MAX_DESCRIPTION_CHARS: usize = 4000;
/// Longest merchant name, in characters.
pub const MAX_MERCHANT_NAME_CHARS: usize = 200;
/// Longest merchant or place address, in characters.
pub const MAX_ADDRESS_CHARS: usize = 500;
/// Longest withdrawal or refusal reason, in characters.
pub const MAX_REASON_CHARS: usize = 1000;
/// Longest author (user) id, in characters.
pub const MAX_AUTHOR_CHARS: usize = 128;
/// How far the nearest red station may be, in metres, for submission to take the report's
/// district from it when the author did not set one.
pub const DISTRICT_FROM_STATION_WITHIN_M: f64 = 5000.0;

/// A report's id: a UUIDv7 made on the device, in lowercase hyphenated form.
///
/// It crosses the FFI as a plain string (a uniffi custom type): a string that is not a UUID
/// is refused with [`Error::InvalidInput`] before any call runs.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ReportId(String);

#[cfg(feature = "uniffi")]
uniffi::custom_type!(ReportId, String, {
    lower: |id| id.0,
    try_lift: |s| Ok(ReportId::parse(&s)?),
});

impl ReportId {
    /// A fresh id whose time part is `now` and whose other 74 bits are random.
    pub fn generate(now: DateTime<Utc>) -> Result<ReportId> {
        let mut random = [0u8; 10];
        getrandom::fill(&mut random)
            .map_err(|e| Error::Internal(format!("no random numbers for a report id: {e}")))?;
        let ms = u64::try_from(now.timestamp_millis()).unwrap_or(0);
        let id = uuid::Builder::from_unix_timestamp_millis(ms, &random).into_uuid();
        Ok(ReportId(id.hyphenated().to_string()))
    }

    /// Parses an id given by a caller; anything but a UUID is refused.
    pub fn parse(s: &str) -> Result<ReportId> {
        let s = s.trim();
        let s = s.strip_prefix("report:").unwrap_or(s);
        uuid::Uuid::try_parse(s)
            .map(|u| ReportId(u.hyphenated().to_string()))
            .map_err(|_| {
                let shown: String = s.chars().take(60).collect();
                Error::invalid(format!("'{shown}' is not a report id (a UUID)"))
            })
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id of the report's document in the document store.
    pub fn doc_id(&self) -> String {
        format!("report:{}", self.0)
    }
}

impl fmt::Display for ReportId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a report is in its life, derived from the document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "lowercase")]
pub enum ReportStatus {
    /// Being written; can be edited and deleted by its author.
    Draft,
    /// Submitted: frozen, in the outbox or sent.
    Submitted,
    /// Withdrawn by its author after submission. Kept, never deleted.
    Withdrawn,
}

/// Delivery of a submitted report to the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum OutboxState {
    /// Waiting to be sent.
    Pending,
    /// The server accepted it.
    Sent {
        /// When the server's acceptance was recorded.
        at: DateTime<Utc>,
    },
    /// The server refused it. The report is kept and shown with the reason.
    Refused {
        /// The server's reason.
        reason: String,
        /// When the refusal was recorded.
        at: DateTime<Utc>,
    },
}

/// A report as the device holds it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Report {
    /// The id.
    pub id: ReportId,
    /// The reporter's user id.
    pub author: String,
    /// The category.
    pub category: Category,
    /// Draft, submitted or withdrawn.
    pub status: ReportStatus,
    /// What the problem is.
    pub description: Option<String>,
    /// The merchant's name (food-safety reports).
    pub merchant_name: Option<String>,
    /// The merchant's address (food-safety reports).
    pub merchant_address: Option<String>,
    /// Where the problem is, in words.
    pub address: Option<String>,
    /// Where the report was made.
    pub position: Option<ReportPosition>,
    /// GB/T 2260 code of the district the report is in (one of
    /// [`crate::geo::XIAN_DISTRICTS`]): set by the author, or filled at submission from the
    /// nearest red station. `None` only on a draft.
    pub district: Option<String>,
    /// When the draft was created.
    pub created_at: DateTime<Utc>,
    /// When it was submitted.
    pub submitted_at: Option<DateTime<Utc>>,
    /// When it was withdrawn.
    pub withdrawn_at: Option<DateTime<Utc>>,
    /// Why it was withdrawn.
    pub withdraw_reason: Option<String>,
    /// Attached photos, oldest first.
    pub photos: Vec<ReportPhoto>,
    /// Delivery state; `None` for a draft.
    pub outbox: Option<OutboxState>,
}

/// Changes to a draft. `None` leaves a field as it is; an empty string clears it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ReportPatch {
    /// A category code, e.g. `food.seal`.
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub category: Option<String>,
    /// What the problem is (at most [`MAX_DESCRIPTION_CHARS`]).
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub description: Option<String>,
    /// The merchant's name (at most [`MAX_MERCHANT_NAME_CHARS`]).
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub merchant_name: Option<String>,
    /// The merchant's address (at most [`MAX_ADDRESS_CHARS`]).
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub merchant_address: Option<String>,
    /// Where the problem is, in words (at most [`MAX_ADDRESS_CHARS`]).
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub address: Option<String>,
    /// A district code of [`crate::geo::XIAN_DISTRICTS`], e.g. `610113`. Empty clears it (then
    /// submission takes it from the nearest red station).
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub district: Option<String>,
}

/// A position fix as the platform's location provider gave it, for
/// [`Reports::set_position`](super::Reports::set_position).
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct PositionFix {
    /// Latitude in `datum`.
    pub lat: f64,
    /// Longitude in `datum`.
    pub lon: f64,
    /// The datum the provider used (Amap and Tencent give GCJ-02, Baidu BD-09, GPS WGS-84).
    pub datum: Datum,
    /// Horizontal accuracy in metres; `None` when the platform gave none ("accuracy unknown",
    /// never treated as precise).
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub accuracy_m: Option<f64>,
    /// When the fix was taken.
    pub fix_time: DateTime<Utc>,
    /// True when the platform says the fix came from a mock location provider. It is kept and
    /// flagged in the report, never dropped.
    #[cfg_attr(feature = "uniffi", uniffi(default = false))]
    pub mock: bool,
}

/// Refuses a district code that is not one of Xi'an's, naming the field and the value.
pub(crate) fn check_district(code: &str) -> Result<()> {
    if District::by_code(code).is_some() {
        return Ok(());
    }
    let shown: String = code.chars().take(20).flat_map(char::escape_debug).collect();
    let known: Vec<&str> = XIAN_DISTRICTS.iter().map(|d| d.code).collect();
    Err(Error::invalid(format!(
        "district '{shown}' is not a GB/T 2260 code of a district of Xi'an; expected one of {}",
        known.join(", ")
    )))
}

pub(super) fn check_author(author: &str) -> Result<()> {
    if author.trim().is_empty() {
        return Err(Error::invalid("author is empty"));
    }
    if author.chars().count() > MAX_AUTHOR_CHARS {
        return Err(Error::invalid(format!(
            "author is longer than {MAX_AUTHOR_CHARS} characters"
        )));
    }
    if author.chars().any(char::is_control) {
        return Err(Error::invalid("author contains a control character"));
    }
    Ok(())
}

/// Refuses text over `max` characters, or with control characters (newlines and tabs are
/// allowed only when `multiline`). Names the field, never echoes the text.
pub(crate) fn check_text(field: &str, value: &str, max: usize, multiline: bool) -> Result<()> {
    let n = value.chars().count();
    if n > max {
        return Err(Error::invalid(format!(
            "{field} is {n} characters; at most {max} are allowed"
        )));
    }
    if value
        .chars()
        .any(|c| c.is_control() && !(multiline && (c == '\n' || c == '\t' || c == '\r')))
    {
        return Err(Error::invalid(format!(
            "{field} contains a control character"
        )));
    }
    Ok(())
}

pub(super) fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub(super) fn not_found(id: &ReportId) -> Error {
    Error::NotFound(format!("no report with id '{id}'"))
}

pub(super) fn require_draft(report: &Report, verb: &str) -> Result<()> {
    match report.status {
        ReportStatus::Draft => Ok(()),
        ReportStatus::Submitted => Err(Error::invalid(format!(
            "report '{}' was submitted and cannot be {verb}; it can only be withdrawn",
            report.id
        ))),
        ReportStatus::Withdrawn => Err(Error::invalid(format!(
            "report '{}' was withdrawn and cannot be {verb}",
            report.id
        ))),
    }
}

pub(super) fn require_author(report: &Report, author: &str, verb: &str) -> Result<()> {
    if report.author != author {
        return Err(Error::invalid(format!(
            "report '{}' belongs to another author; only its author can {verb} it",
            report.id
        )));
    }
    Ok(())
}
