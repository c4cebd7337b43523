//! How a case is stored in its Automerge document: the shared genesis, reading every event
//! (with disputed and unreadable ones set apart) and writing one. The layout is in the parent
//! module's docs.

use automerge::{
    ActorId, AutoCommit, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value,
    transaction::{CommitOptions, Transactable},
};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

use super::{CASE_SCHEMA, CaseEvent, CaseEventKind, integrity};
use crate::error::{Error, Result};
use crate::reports::ReportId;
use crate::store::documents::{automerge_error, root_str};

/// The document every device starts from: byte-identical for the same report.
pub(in crate::reports) fn genesis(report: &ReportId) -> Result<AutoCommit> {
    let mut doc = AutoCommit::new().with_actor(integrity::genesis_actor(report));
    doc.put(ROOT, "schema", CASE_SCHEMA)
        .map_err(automerge_error)?;
    doc.put(ROOT, "report", report.as_str())
        .map_err(automerge_error)?;
    doc.put_object(ROOT, "events", ObjType::Map)
        .map_err(automerge_error)?;
    doc.commit_with(CommitOptions::default().with_time(0));
    // Local edits use a fresh actor; the genesis actor is only ever used for this one change.
    doc.set_actor(ActorId::random());
    Ok(doc)
}

/// Checks that bytes from elsewhere are this report's case document, and loads them.
pub(in crate::reports) fn load_foreign(bytes: &[u8], report: &ReportId) -> Result<AutoCommit> {
    crate::store::documents::check_foreign_size("case", bytes)?;
    let doc = AutoCommit::load(bytes)
        .map_err(|e| Error::invalid(format!("not an Automerge case document: {e}")))?;
    if root_str(&doc, "schema").as_deref() != Some(CASE_SCHEMA) {
        return Err(Error::invalid(format!(
            "document is not a case document (schema is not '{CASE_SCHEMA}')"
        )));
    }
    if root_str(&doc, "report").as_deref() != Some(report.as_str()) {
        return Err(Error::invalid(format!(
            "case document belongs to another report, not '{report}'"
        )));
    }
    Ok(doc)
}

fn event_maps(doc: &AutoCommit) -> Vec<ObjId> {
    doc.get_all(ROOT, "events")
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(v, id)| matches!(v, Value::Object(ObjType::Map)).then_some(id))
        .collect()
}

fn str_at(doc: &AutoCommit, obj: &ObjId, key: &str) -> Option<String> {
    match doc.get(obj, key).ok().flatten() {
        Some((Value::Scalar(s), _)) => match s.as_ref() {
            ScalarValue::Str(s) => Some(s.to_string()),
            _ => None,
        },
        _ => None,
    }
}

fn time_at(doc: &AutoCommit, obj: &ObjId, key: &str) -> Option<DateTime<Utc>> {
    match doc.get(obj, key).ok().flatten() {
        Some((Value::Scalar(s), _)) => match s.as_ref() {
            ScalarValue::Timestamp(ms) => DateTime::from_timestamp_millis(*ms),
            _ => None,
        },
        _ => None,
    }
}

pub(crate) fn read_event(doc: &AutoCommit, obj: &ObjId, id: &str) -> Option<CaseEvent> {
    let kind = match str_at(doc, obj, "kind")?.as_str() {
        "acknowledge" => CaseEventKind::Acknowledge,
        "note" => CaseEventKind::Note,
        "request_info" => CaseEventKind::RequestInfo,
        "dispatch" => CaseEventKind::Dispatch {
            grid_id: str_at(doc, obj, "grid_id")?,
        },
        "mark_duplicate" => CaseEventKind::MarkDuplicate {
            of: ReportId::parse(&str_at(doc, obj, "of")?)
                .ok()?
                .as_str()
                .to_string(),
        },
        "resolve" => CaseEventKind::Resolve,
        "reject" => CaseEventKind::Reject {
            reason: str_at(doc, obj, "reason")?,
        },
        "reopen" => CaseEventKind::Reopen,
        _ => return None,
    };
    Some(CaseEvent {
        id: id.to_string(),
        kind,
        actor: str_at(doc, obj, "actor")?,
        role: str_at(doc, obj, "role")?.parse().ok()?,
        at: time_at(doc, obj, "at")?,
        note: str_at(doc, obj, "note"),
        photos: match doc.get(obj, "photos").ok().flatten() {
            None => Vec::new(),
            // Anything but SHA-256s makes the event unreadable rather than half-shown.
            Some(_) => str_at(doc, obj, "photos")?
                .split(' ')
                .map(|s| crate::util::hash::is_sha256_hex(s).then(|| s.to_string()))
                .collect::<Option<Vec<_>>>()?,
        },
    })
}

/// Every event of a case document, as a device reads it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ReadEvents {
    /// The readable, undisputed events, sorted by `(at, id)`.
    pub(crate) events: Vec<CaseEvent>,
    /// Ids of events this version cannot read, sorted.
    pub(crate) unreadable: Vec<String>,
    /// Ids with more than one value, or an event with more than one value in a field, sorted.
    pub(crate) disputed: Vec<String>,
}

/// Reads every event. An id that holds more than one value (in one map, or across several
/// `events` maps), or whose event holds more than one value in a field, is disputed: none of
/// its values is kept, on every device alike (see the module docs).
pub(crate) fn read_events(doc: &AutoCommit) -> ReadEvents {
    let mut values: BTreeMap<String, Vec<(Value<'_>, ObjId)>> = BTreeMap::new();
    for map in event_maps(doc) {
        for id in doc.keys(&map) {
            let all = doc.get_all(&map, id.as_str()).unwrap_or_default();
            values.entry(id).or_default().extend(all);
        }
    }
    let mut read = ReadEvents::default();
    for (id, values) in values {
        let obj = match values.as_slice() {
            [(Value::Object(ObjType::Map), obj)] => obj,
            [_] => {
                read.unreadable.push(id);
                continue;
            }
            _ => {
                read.disputed.push(id);
                continue;
            }
        };
        let conflicted = doc
            .keys(obj)
            .any(|k| doc.get_all(obj, k.as_str()).map_or(0, |v| v.len()) > 1);
        if conflicted {
            read.disputed.push(id);
            continue;
        }
        match read_event(doc, obj, &id) {
            Some(e) => read.events.push(e),
            None => read.unreadable.push(id),
        }
    }
    read.events
        .sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.id.cmp(&b.id)));
    read
}

/// Adds an event to the events map.
pub(super) fn write_event(doc: &mut AutoCommit, e: &CaseEvent) -> Result<()> {
    let map = match doc.get(ROOT, "events").map_err(automerge_error)? {
        Some((Value::Object(ObjType::Map), id)) => id,
        _ => doc
            .put_object(ROOT, "events", ObjType::Map)
            .map_err(automerge_error)?,
    };
    let obj = doc
        .put_object(&map, e.id.as_str(), ObjType::Map)
        .map_err(automerge_error)?;
    let mut fields: Vec<(&str, ScalarValue)> = vec![
        ("kind", e.kind.name().into()),
        ("actor", e.actor.as_str().into()),
        ("role", e.role.as_str().into()),
        ("at", ScalarValue::Timestamp(e.at.timestamp_millis())),
    ];
    if let Some(n) = &e.note {
        fields.push(("note", n.as_str().into()));
    }
    // One string, not a list: an Automerge list takes concurrent inserts from anyone who
    // branches the document, so another account could add photos to this event; a string
    // field holds one value, and a second one is a conflict the server refuses.
    if !e.photos.is_empty() {
        fields.push(("photos", e.photos.join(" ").into()));
    }
    match &e.kind {
        CaseEventKind::Dispatch { grid_id } => fields.push(("grid_id", grid_id.as_str().into())),
        CaseEventKind::MarkDuplicate { of } => fields.push(("of", of.as_str().into())),
        CaseEventKind::Reject { reason } => fields.push(("reason", reason.as_str().into())),
        _ => {}
    }
    for (k, v) in fields {
        doc.put(&obj, k, v).map_err(automerge_error)?;
    }
    Ok(())
}
