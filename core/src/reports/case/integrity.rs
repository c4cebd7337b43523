//! What the server checks before a case document may change, and the actor ids devices write
//! cases with. `docs/formats/case-status.md` ("Integrity") is the reference.
//!
//! A case has many writers (every follow-up account of the report's district), so a hostile
//! one must not be able to rewrite what others wrote or wedge their sync:
//!
//! - **One value per event, forever.** Automerge keeps every concurrent value written under
//!   one map key. An account that branches the document from before event E and writes a
//!   second value under E's id would otherwise put words (a `reject`, a role, a backdated
//!   `at`) in the mouth of E's author. The server refuses any conflict in the document's
//!   structure ([`check_structure`]); a device that still meets one drops the disputed event
//!   and lists it ([`super::read_events`]).
//! - **Only known fields**, each bounded ([`check_new_event`]), so nothing unreviewed rides
//!   along in a document every follow-up device downloads.
//! - **Times within reason**: not later than the server's clock plus [`CLOCK_SKEW`], not
//!   earlier than the report it follows minus the same allowance. Offline work that arrives
//!   days later keeps its old `at`: that is after the report, so it is accepted.
//! - **The exact genesis, and actors tied to accounts.** Every device starts a case from the
//!   same genesis change ([`super::genesis`]), so its actor is public. The server accepts a
//!   change by that actor only if it is the canonical genesis, byte for byte
//!   ([`check_authors`]); otherwise an account could publish a different change under the
//!   same (actor, sequence number) first, and every honest device's copy would stop merging.
//!   For the same reason, events are written with an actor id that starts with a tag derived
//!   from the writer's user id ([`writer_actor`]), and the server refuses a change whose
//!   32-byte actor carries another account's tag: nobody can take the next sequence number of
//!   another account's actor.

use automerge::{ActorId, AutoCommit, Change, ChangeHash, ObjType, ROOT, ReadDoc, Value};
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;

use super::{CASE_SCHEMA, CaseEvent, CaseEventKind, MAX_GRID_ID_CHARS, MAX_NOTE_CHARS, genesis};
use crate::packs::sha256_hex;
use crate::reports::{MAX_REASON_CHARS, ReportId, check_text};

/// How far a case event's `at` may lie ahead of the server's clock, or before the report it
/// follows. Phones set their clocks from the network and are rarely more than a few seconds
/// off; ten minutes absorbs a phone that was never synced since a reboot, yet a forged
/// timestamp cannot move an event by more than that.
pub const CLOCK_SKEW: Duration = Duration::minutes(10);

/// The fields of a case document's root.
pub const ROOT_FIELDS: [&str; 3] = ["schema", "report", "events"];

/// The fields every event has (`note` is optional).
const COMMON_FIELDS: [&str; 5] = ["kind", "actor", "role", "at", "note"];

/// Length of the account tag at the start of a tagged actor id, in bytes.
const TAG_BYTES: usize = 16;

/// Whether an event of `kind` may carry the field `key` besides the common ones.
fn kind_allows(kind: &CaseEventKind, key: &str) -> bool {
    kind_field(kind) == Some(key) || (key == "photos" && super::kind_takes_photos(kind))
}

/// The fields an event of this kind may carry besides the common ones (and `photos`).
fn kind_field(kind: &CaseEventKind) -> Option<&'static str> {
    match kind {
        CaseEventKind::Dispatch { .. } => Some("grid_id"),
        CaseEventKind::MarkDuplicate { .. } => Some("of"),
        CaseEventKind::Reject { .. } => Some("reason"),
        _ => None,
    }
}

/// A key or value from a document, cut and escaped for an error message.
fn shown(s: &str) -> String {
    s.chars().take(40).flat_map(char::escape_debug).collect()
}

/// The actor of every case's genesis change (public: derived from the report id).
pub fn genesis_actor(report: &ReportId) -> ActorId {
    let seed = sha256_hex(format!("waystation/case genesis\n{report}").as_bytes());
    ActorId::from(seed.as_bytes()[..16].to_vec())
}

/// The account tag that starts the actor ids `user` writes cases with.
fn actor_tag(user: &str) -> Vec<u8> {
    let hex = sha256_hex(format!("waystation/case actor\n{user}").as_bytes());
    // 32 hex digits → 16 bytes.
    (0..TAG_BYTES)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap_or(0))
        .collect()
}

/// A fresh actor id for `user` to write a case event with: the user's tag and 16 random
/// bytes, so two devices of one account never share an actor.
pub fn writer_actor(user: &str) -> ActorId {
    let mut bytes = actor_tag(user);
    bytes.extend_from_slice(ActorId::random().to_bytes());
    ActorId::from(bytes)
}

/// Checks the authorship of the changes an account sends for a case: a change by the genesis
/// actor must be the canonical genesis; a tagged (32-byte) actor must carry the sender's tag.
///
/// Actors of another length come from devices built before tagging (a random 16-byte actor
/// per edit). They are accepted only when the server has never seen the actor (its changes
/// here start at sequence number 1), so nobody can extend another device's actor; what the
/// protocol cannot prevent is that an account that learned an *unsent* legacy actor from a
/// device-to-device merge publishes under it first.
pub fn check_authors(user: &str, report: &ReportId, new_changes: &[Change]) -> Result<(), String> {
    let genesis_actor = genesis_actor(report);
    let genesis_hash = genesis_hash(report)?;
    let tag = actor_tag(user);
    let mut first_seq: HashMap<&ActorId, u64> = HashMap::new();
    for c in new_changes {
        let actor = c.actor_id();
        if *actor == genesis_actor {
            if c.hash() != genesis_hash {
                return Err(format!(
                    "case of report '{report}': a change by the genesis actor that is not the \
                     canonical genesis"
                ));
            }
            continue;
        }
        let bytes = actor.to_bytes();
        if bytes.len() == 2 * TAG_BYTES {
            if bytes[..TAG_BYTES] != tag[..] {
                return Err(format!(
                    "case of report '{report}': a change by an actor of another account"
                ));
            }
            continue;
        }
        let seq = first_seq.entry(actor).or_insert(c.seq());
        *seq = (*seq).min(c.seq());
    }
    if first_seq.values().any(|&s| s > 1) {
        return Err(format!(
            "case of report '{report}': a change continues an actor this account did not start"
        ));
    }
    Ok(())
}

/// The hash of the canonical genesis change.
fn genesis_hash(report: &ReportId) -> Result<ChangeHash, String> {
    let mut doc = genesis(report).map_err(|e| e.to_string())?;
    doc.get_heads()
        .first()
        .copied()
        .ok_or_else(|| "the genesis document has no change".to_string())
}

/// Checks the shape of a whole case document: the canonical genesis, only known fields at the
/// root and in each event, and exactly one value under every key (no conflicts: see the
/// module docs). Field contents are checked for new events by [`check_new_event`].
pub fn check_structure(doc: &AutoCommit, report: &ReportId) -> Result<(), String> {
    let canonical = genesis(report).map_err(|e| e.to_string())?;
    if doc.get_change_by_hash(&genesis_hash(report)?).is_none() {
        return Err(format!(
            "case of report '{report}' does not start from the canonical genesis"
        ));
    }
    for key in doc.keys(ROOT) {
        if !ROOT_FIELDS.contains(&key.as_str()) {
            return Err(format!(
                "case document has an unknown field '{}'",
                shown(&key)
            ));
        }
        if doc.get_all(ROOT, key.as_str()).map_or(0, |v| v.len()) != 1 {
            return Err(format!(
                "case document field '{key}' has conflicting values"
            ));
        }
    }
    if crate::store::documents::root_str(doc, "schema").as_deref() != Some(CASE_SCHEMA) {
        return Err(format!("document is not the case of report '{report}'"));
    }
    let events = match (doc.get(ROOT, "events"), canonical.get(ROOT, "events")) {
        (Ok(Some((Value::Object(ObjType::Map), got))), Ok(Some((_, want)))) if got == want => got,
        _ => {
            return Err(format!(
                "case of report '{report}': its events are not the genesis's events map"
            ));
        }
    };
    for id in doc.keys(&events) {
        if id.len() != 36 || uuid::Uuid::parse_str(&id).is_err() {
            return Err(format!("case event id '{}' is not a UUID", shown(&id)));
        }
        let values = doc.get_all(&events, id.as_str()).unwrap_or_default();
        let obj = match values.as_slice() {
            [(Value::Object(ObjType::Map), obj)] => obj.clone(),
            [_] => return Err(format!("case event '{id}' is not a map")),
            _ => {
                return Err(format!(
                    "case event '{id}' has {} conflicting values; an event is written once",
                    values.len()
                ));
            }
        };
        let event = super::read_event(doc, &obj, &id)
            .ok_or_else(|| format!("case event '{id}' is unreadable"))?;
        for key in doc.keys(&obj) {
            if !COMMON_FIELDS.contains(&key.as_str()) && !kind_allows(&event.kind, &key) {
                return Err(format!(
                    "case event '{id}' has a field '{}' that a {} event does not have",
                    shown(&key),
                    event.kind.name()
                ));
            }
            if doc.get_all(&obj, key.as_str()).map_or(0, |v| v.len()) != 1 {
                return Err(format!(
                    "case event '{id}' field '{key}' has conflicting values"
                ));
            }
        }
    }
    Ok(())
}

/// Every (writer, photo) pair the readable events of a case document name: the server links
/// a photo to the case only when that writer uploaded it, so a hash learnt elsewhere and named
/// in an event links nothing.
pub fn event_photos(doc: &AutoCommit) -> Vec<(String, String)> {
    super::read_events(doc)
        .events
        .into_iter()
        .flat_map(|e| {
            let actor = e.actor;
            e.photos.into_iter().map(move |sha| (actor.clone(), sha))
        })
        .collect()
}

/// The times a new event's `at` must lie between: from the report's time (its submission,
/// or creation) minus [`CLOCK_SKEW`], to the server's `now` plus [`CLOCK_SKEW`]. A report
/// stamped later than `now` (its phone's clock was ahead) counts as made `now`.
pub fn time_bounds(
    report_time: DateTime<Utc>,
    now: DateTime<Utc>,
) -> (DateTime<Utc>, DateTime<Utc>) {
    (report_time.min(now) - CLOCK_SKEW, now + CLOCK_SKEW)
}

/// Checks the fields of an event the server has not stored yet: text bounds and charsets,
/// the duplicate target, and the time ([`time_bounds`]).
pub fn check_new_event(
    e: &CaseEvent,
    report: &ReportId,
    report_time: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), String> {
    let text = |field: &str, value: &str, max: usize, multiline: bool| {
        check_text(field, value, max, multiline)
            .map_err(|err| format!("case event '{}': {}", e.id, invalid_reason(err)))
    };
    if let Some(note) = &e.note {
        text("note", note, MAX_NOTE_CHARS, true)?;
    }
    super::check_event_photos(&e.kind, &e.photos)
        .map_err(|err| format!("case event '{}': {}", e.id, invalid_reason(err)))?;
    match &e.kind {
        CaseEventKind::Reject { reason } => {
            if reason.trim().is_empty() {
                return Err(format!("case event '{}': a reject needs a reason", e.id));
            }
            text("reason", reason, MAX_REASON_CHARS, true)?;
        }
        CaseEventKind::Dispatch { grid_id } => {
            check_grid_id(grid_id)
                .map_err(|err| format!("case event '{}': {}", e.id, invalid_reason(err)))?;
        }
        CaseEventKind::MarkDuplicate { of } if of == report.as_str() => {
            return Err(format!(
                "case event '{}': a report cannot be a duplicate of itself",
                e.id
            ));
        }
        _ => {}
    }
    let (earliest, latest) = time_bounds(report_time, now);
    if e.at > latest {
        return Err(format!(
            "case event '{}' is dated more than {} minutes ahead of the server's clock; check \
             the device's clock",
            e.id,
            CLOCK_SKEW.num_minutes()
        ));
    }
    if e.at < earliest {
        return Err(format!(
            "case event '{}' is dated before the report it follows; check the device's clock",
            e.id
        ));
    }
    Ok(())
}

/// A grid id: 1 to [`MAX_GRID_ID_CHARS`] letters (any script), digits, `-`, `_` or `.`.
/// It names a grid on screens and in exports, so it holds no spaces or punctuation.
pub(crate) fn check_grid_id(grid_id: &str) -> crate::error::Result<()> {
    check_text("grid_id", grid_id, MAX_GRID_ID_CHARS, false)?;
    if grid_id.is_empty()
        || !grid_id
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(crate::error::Error::invalid(
            "grid_id must be letters, digits, '-', '_' or '.'",
        ));
    }
    Ok(())
}

fn invalid_reason(e: crate::error::Error) -> String {
    match e {
        crate::error::Error::InvalidInput(reason) => reason,
        other => other.to_string(),
    }
}
