//! A report as an Automerge document, `report:<uuid>`.
//!
//! ## Layout
//!
//! ```text
//! ROOT
//! ├─ schema:           "waystation/report"
//! ├─ id, author:       Str
//! ├─ created_at:       Timestamp(ms)
//! ├─ category:         Str (a category code)
//! ├─ description, merchant_name, merchant_address, address: Text (absent when empty;
//! │                    a Str from an older build is read too and becomes Text on its next edit)
//! ├─ position:         { lat, lon (WGS-84), datum, source_lat, source_lon,
//! │                      accuracy_m (absent = unknown), fix_time: Timestamp, mock: Bool }
//! ├─ photos:           { <sha256>: { media_type, size_bytes, width, height, added_at, seq } }
//! ├─ district:         Str, a GB/T 2260 code of Xi'an (absent until the author sets it or
//! │                    submission fills it from the nearest red station)
//! ├─ submitted_at:     Timestamp (absent while a draft)
//! └─ withdrawn_at, withdraw_reason (only after withdrawal)
//! ```
//!
//! The four free-text fields are Automerge Text objects edited by splicing only what changed
//! (common prefix and suffix kept), so an autosave that sends the whole field after each typed
//! word stores a few characters of history, not the whole string again: with plain string
//! registers 50 autosaves of a description stored every intermediate copy (about 15× the
//! report's JSON).
//!
//! A report has exactly one writer, its author, so plain last-writer-wins registers are enough:
//! there is no concurrent editor to merge with. The status is derived from which timestamps are
//! present (draft → submitted → withdrawn), never stored as its own field.
//!
//! ## History
//!
//! A draft never leaves the device, so its Automerge history is worth nothing to anyone: the
//! stored draft is compacted by `rebuilt`, a fresh document with the same content and no
//! history, and once more just before the submission change, so that what sync sends is that
//! one rebuilt change plus everything from submission on (`docs/decisions/0006-draft-compaction.md`).
//! A submitted report keeps its history, because from then on other replicas may hold it.
//!
//! ## Reading a document from elsewhere
//!
//! [`read_report_document`], [`report_author`] and [`report_district`] read any report
//! document (an [`AutoCommit`] or an [`automerge::Automerge`]), e.g. on the sync server to check
//! the writer and scope a report by district.

use automerge::{
    AutoCommit, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, TextEncoding, Value, hydrate,
    transaction::{CommitOptions, Transactable},
};
use chrono::{DateTime, Utc};

use super::{Category, Report, ReportId, ReportPhoto, ReportPosition, ReportStatus};
use crate::error::{Error, Result};
use crate::geo::Datum;
use crate::store::documents::automerge_error;

/// Document kind in the document store.
pub const REPORT_KIND: &str = "report";
/// Value of the document's `schema` field.
pub const REPORT_SCHEMA: &str = "waystation/report";

/// Every field a report document's root may hold (the layout above). The server refuses a
/// report with any other: nothing unreviewed rides along in a document that follow-up devices
/// download.
pub const REPORT_FIELDS: [&str; 15] = [
    "schema",
    "id",
    "author",
    "created_at",
    "category",
    "description",
    "merchant_name",
    "merchant_address",
    "address",
    "position",
    "photos",
    "district",
    "submitted_at",
    "withdrawn_at",
    "withdraw_reason",
];

/// The first field of the document's root that is not one of [`REPORT_FIELDS`], if any.
pub fn unknown_root_field(doc: &impl ReadDoc) -> Option<String> {
    doc.keys(ROOT)
        .find(|k| !REPORT_FIELDS.contains(&k.as_str()))
}

/// A new draft's document.
pub(crate) fn genesis(
    id: &ReportId,
    author: &str,
    category: Category,
    now: DateTime<Utc>,
) -> Result<AutoCommit> {
    let mut doc = AutoCommit::new();
    doc.put(ROOT, "schema", REPORT_SCHEMA)
        .map_err(automerge_error)?;
    doc.put(ROOT, "id", id.as_str()).map_err(automerge_error)?;
    doc.put(ROOT, "author", author).map_err(automerge_error)?;
    doc.put(
        ROOT,
        "created_at",
        ScalarValue::Timestamp(now.timestamp_millis()),
    )
    .map_err(automerge_error)?;
    doc.put(ROOT, "category", category.code())
        .map_err(automerge_error)?;
    Ok(doc)
}

fn scalar(doc: &impl ReadDoc, obj: &ObjId, key: &str) -> Option<ScalarValue> {
    match doc.get(obj, key).ok().flatten() {
        Some((Value::Scalar(s), _)) => Some(s.into_owned()),
        _ => None,
    }
}

fn time_at(doc: &impl ReadDoc, obj: &ObjId, key: &str) -> Option<DateTime<Utc>> {
    match scalar(doc, obj, key)? {
        ScalarValue::Timestamp(ms) => DateTime::from_timestamp_millis(ms),
        _ => None,
    }
}

fn f64_at(doc: &impl ReadDoc, obj: &ObjId, key: &str) -> Option<f64> {
    match scalar(doc, obj, key)? {
        ScalarValue::F64(f) => Some(f),
        ScalarValue::Int(i) => Some(i as f64),
        ScalarValue::Uint(u) => Some(u as f64),
        _ => None,
    }
}

fn str_at(doc: &impl ReadDoc, obj: &ObjId, key: &str) -> Option<String> {
    match scalar(doc, obj, key)? {
        ScalarValue::Str(s) => Some(s.to_string()),
        _ => None,
    }
}

fn root_str(doc: &impl ReadDoc, key: &str) -> Option<String> {
    str_at(doc, &ROOT, key)
}

fn root_map(doc: &impl ReadDoc, key: &str) -> Option<ObjId> {
    match doc.get(ROOT, key).ok().flatten() {
        Some((Value::Object(ObjType::Map), obj)) => Some(obj),
        _ => None,
    }
}

/// Reads the report; a document that is not a readable report is an internal error (this
/// device wrote it). [`read_report_document`] is the reader for documents from elsewhere.
pub(crate) fn read(doc: &impl ReadDoc) -> Result<Report> {
    let bad = |what: &str| Error::Internal(format!("stored report document: {what}"));
    if root_str(doc, "schema").as_deref() != Some(REPORT_SCHEMA) {
        return Err(bad("not a report"));
    }
    let id = ReportId::parse(&root_str(doc, "id").ok_or_else(|| bad("no id"))?)?;
    let author = root_str(doc, "author").ok_or_else(|| bad("no author"))?;
    let category: Category = root_str(doc, "category")
        .ok_or_else(|| bad("no category"))?
        .parse()?;
    let created_at = time_at(doc, &ROOT, "created_at").ok_or_else(|| bad("no creation time"))?;
    let position = root_map(doc, "position").and_then(|p| {
        Some(ReportPosition {
            lat: f64_at(doc, &p, "lat")?,
            lon: f64_at(doc, &p, "lon")?,
            datum: str_at(doc, &p, "datum")?.parse::<Datum>().ok()?,
            source_lat: f64_at(doc, &p, "source_lat")?,
            source_lon: f64_at(doc, &p, "source_lon")?,
            accuracy_m: f64_at(doc, &p, "accuracy_m"),
            fix_time: time_at(doc, &p, "fix_time")?,
            mock: matches!(scalar(doc, &p, "mock"), Some(ScalarValue::Boolean(true))),
        })
    });
    let submitted_at = time_at(doc, &ROOT, "submitted_at");
    let withdrawn_at = time_at(doc, &ROOT, "withdrawn_at");
    let status = match (submitted_at, withdrawn_at) {
        (_, Some(_)) => ReportStatus::Withdrawn,
        (Some(_), None) => ReportStatus::Submitted,
        (None, None) => ReportStatus::Draft,
    };
    Ok(Report {
        id,
        author,
        category,
        status,
        description: root_text(doc, "description"),
        merchant_name: root_text(doc, "merchant_name"),
        merchant_address: root_text(doc, "merchant_address"),
        address: root_text(doc, "address"),
        position,
        created_at,
        submitted_at,
        withdrawn_at,
        withdraw_reason: root_str(doc, "withdraw_reason"),
        photos: read_photos(doc),
        district: root_str(doc, "district"),
        outbox: None,
    })
}

fn foreign(e: Error) -> Error {
    match e {
        Error::Internal(m) => {
            Error::invalid(m.replace("stored report document", "report document"))
        }
        other => other,
    }
}

/// Reads a report document that may come from another device, e.g. on the sync server after
/// merging what a client sent: author, district, status, photos and every other field.
/// A document that is not a readable report (wrong schema, missing id, author, category or
/// creation time) is [`Error::InvalidInput`]. `outbox` is always `None`: delivery state is not
/// part of the document. The district is returned as stored; the device only ever writes codes
/// of [`crate::geo::XIAN_DISTRICTS`] (check with [`crate::geo::District::by_code`]).
pub fn read_report_document(doc: &impl ReadDoc) -> Result<Report> {
    read(doc).map_err(foreign)
}

fn check_schema(doc: &impl ReadDoc) -> Result<()> {
    if root_str(doc, "schema").as_deref() != Some(REPORT_SCHEMA) {
        return Err(Error::invalid("report document: not a report"));
    }
    Ok(())
}

/// The author (reporter's user id) of a report document, without reading the rest: the only
/// user who may write it. [`Error::InvalidInput`] when it is not a report document or has no
/// author.
pub fn report_author(doc: &impl ReadDoc) -> Result<String> {
    check_schema(doc)?;
    root_str(doc, "author").ok_or_else(|| Error::invalid("report document: no author"))
}

/// The district (GB/T 2260 code) of a report document, without reading the rest: `None` while
/// a draft has none. Every submitted report made by this library has one (submission refuses a
/// report whose district cannot be known). [`Error::InvalidInput`] when it is not a report
/// document.
pub fn report_district(doc: &impl ReadDoc) -> Result<Option<String>> {
    check_schema(doc)?;
    Ok(root_str(doc, "district"))
}

/// A fresh document with `doc`'s current content and no history: one change, committed at
/// `at` by a new random actor, in the same text encoding. Checked: the copy's content must
/// equal the original's, or it is refused and the caller keeps the original. Used only for
/// drafts, which no other replica holds (see the module docs).
pub(crate) fn rebuilt(doc: &AutoCommit, at: DateTime<Utc>) -> Result<AutoCommit> {
    let content = doc.hydrate(ROOT, None).map_err(automerge_error)?;
    let hydrate::Value::Map(root) = &content else {
        return Err(Error::Internal("report document root is not a map".into()));
    };
    let mut fresh = AutoCommit::new_with_encoding(doc.text_encoding());
    fresh
        .init_root_from_hydrate(root)
        .map_err(automerge_error)?;
    fresh.commit_with(CommitOptions::default().with_time(at.timestamp()));
    if fresh.hydrate(ROOT, None).map_err(automerge_error)? != content {
        return Err(Error::Internal(
            "rebuilt report document differs from the original; keeping the original".into(),
        ));
    }
    Ok(fresh)
}

/// A free-text field: a Text object, or a Str written by an older build. Empty is absent.
fn root_text(doc: &impl ReadDoc, field: &str) -> Option<String> {
    match doc.get(ROOT, field).ok().flatten() {
        Some((Value::Object(ObjType::Text), obj)) => doc.text(&obj).ok().filter(|t| !t.is_empty()),
        Some((Value::Scalar(s), _)) => match s.as_ref() {
            ScalarValue::Str(s) if !s.is_empty() => Some(s.to_string()),
            _ => None,
        },
        _ => None,
    }
}

/// Length of `s` in the units the document counts text positions in.
fn width(doc: &impl ReadDoc, s: &str) -> Option<usize> {
    match doc.text_encoding() {
        TextEncoding::UnicodeCodePoint => Some(s.chars().count()),
        TextEncoding::Utf8CodeUnit => Some(s.len()),
        TextEncoding::Utf16CodeUnit => Some(s.encode_utf16().count()),
        TextEncoding::GraphemeCluster => None,
    }
}

/// Sets or (with an empty value) removes a text field, splicing only what changed. Writes
/// nothing when unchanged.
pub(crate) fn put_text(doc: &mut AutoCommit, field: &str, value: &str) -> Result<()> {
    let current = root_text(doc, field);
    if value.is_empty() {
        if doc.get(ROOT, field).map_err(automerge_error)?.is_some() {
            doc.delete(ROOT, field).map_err(automerge_error)?;
        }
        return Ok(());
    }
    if current.as_deref() == Some(value) {
        return Ok(());
    }
    let (obj, old) = match doc.get(ROOT, field).map_err(automerge_error)? {
        Some((Value::Object(ObjType::Text), obj)) => (obj, current.unwrap_or_default()),
        _ => {
            let obj = doc
                .put_object(ROOT, field, ObjType::Text)
                .map_err(automerge_error)?;
            (obj, String::new())
        }
    };
    // Common prefix and suffix, on character boundaries, never overlapping.
    let prefix: usize = old
        .chars()
        .zip(value.chars())
        .take_while(|(a, b)| a == b)
        .map(|(a, _)| a.len_utf8())
        .sum();
    let suffix: usize = old[prefix..]
        .chars()
        .rev()
        .zip(value[prefix..].chars().rev())
        .take_while(|(a, b)| a == b)
        .map(|(a, _)| a.len_utf8())
        .sum();
    let removed = &old[prefix..old.len() - suffix];
    let inserted = &value[prefix..value.len() - suffix];
    match (width(doc, &old[..prefix]), width(doc, removed)) {
        (Some(pos), Some(del)) => doc.splice_text(&obj, pos, del as isize, inserted),
        // An encoding without a simple width: replace the whole text.
        _ => {
            let all = doc.length(&obj);
            doc.splice_text(&obj, 0, all as isize, value)
        }
    }
    .map_err(automerge_error)
}

/// Sets the category. Writes nothing when unchanged.
pub(crate) fn put_category(doc: &mut AutoCommit, category: Category) -> Result<()> {
    if root_str(doc, "category").as_deref() != Some(category.code()) {
        doc.put(ROOT, "category", category.code())
            .map_err(automerge_error)?;
    }
    Ok(())
}

/// Replaces the position with `p` (already checked and converted).
pub(crate) fn put_position(doc: &mut AutoCommit, p: &ReportPosition) -> Result<()> {
    let obj = doc
        .put_object(ROOT, "position", ObjType::Map)
        .map_err(automerge_error)?;
    doc.put(&obj, "lat", p.lat).map_err(automerge_error)?;
    doc.put(&obj, "lon", p.lon).map_err(automerge_error)?;
    doc.put(&obj, "datum", p.datum.as_str())
        .map_err(automerge_error)?;
    doc.put(&obj, "source_lat", p.source_lat)
        .map_err(automerge_error)?;
    doc.put(&obj, "source_lon", p.source_lon)
        .map_err(automerge_error)?;
    if let Some(a) = p.accuracy_m {
        doc.put(&obj, "accuracy_m", a).map_err(automerge_error)?;
    }
    doc.put(
        &obj,
        "fix_time",
        ScalarValue::Timestamp(p.fix_time.timestamp_millis()),
    )
    .map_err(automerge_error)?;
    doc.put(&obj, "mock", p.mock).map_err(automerge_error)?;
    Ok(())
}

/// Puts a timestamp at a root key.
pub(crate) fn put_time(doc: &mut AutoCommit, key: &str, at: DateTime<Utc>) -> Result<()> {
    doc.put(ROOT, key, ScalarValue::Timestamp(at.timestamp_millis()))
        .map_err(automerge_error)
}

/// Sets (or, with an empty code, removes) the district; the caller has checked the code.
/// Writes nothing when unchanged.
pub(crate) fn put_district(doc: &mut AutoCommit, code: &str) -> Result<()> {
    let current = root_str(doc, "district");
    if code.is_empty() {
        if doc
            .get(ROOT, "district")
            .map_err(automerge_error)?
            .is_some()
        {
            doc.delete(ROOT, "district").map_err(automerge_error)?;
        }
    } else if current.as_deref() != Some(code) {
        doc.put(ROOT, "district", code).map_err(automerge_error)?;
    }
    Ok(())
}

/// Puts a string at a root key.
pub(crate) fn put_str(doc: &mut AutoCommit, key: &str, value: &str) -> Result<()> {
    doc.put(ROOT, key, value).map_err(automerge_error)
}

fn read_photos(doc: &impl ReadDoc) -> Vec<ReportPhoto> {
    let Some(map) = root_map(doc, "photos") else {
        return Vec::new();
    };
    let mut photos: Vec<((i64, u64), ReportPhoto)> = doc
        .keys(&map)
        .filter_map(|sha| {
            let obj = match doc.get(&map, sha.as_str()).ok().flatten() {
                Some((Value::Object(ObjType::Map), obj)) => obj,
                _ => return None,
            };
            let added = match scalar(doc, &obj, "added_at") {
                Some(ScalarValue::Timestamp(ms)) => ms,
                _ => 0,
            };
            let seq = f64_at(doc, &obj, "seq").unwrap_or(0.0) as u64;
            let dim = |k: &str| f64_at(doc, &obj, k).map(|v| v as i32);
            Some((
                (added, seq),
                ReportPhoto {
                    media_type: str_at(doc, &obj, "media_type")?,
                    size_bytes: f64_at(doc, &obj, "size_bytes")? as i64,
                    width: dim("width"),
                    height: dim("height"),
                    sha256: sha,
                },
            ))
        })
        .collect();
    photos.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.sha256.cmp(&b.1.sha256)));
    photos.into_iter().map(|(_, p)| p).collect()
}

/// Adds a photo reference (the file is already stored). Writes nothing when it is there.
pub(crate) fn put_photo(doc: &mut AutoCommit, p: &ReportPhoto, at: DateTime<Utc>) -> Result<()> {
    let map = match root_map(doc, "photos") {
        Some(m) => m,
        None => doc
            .put_object(ROOT, "photos", ObjType::Map)
            .map_err(automerge_error)?,
    };
    if doc.get(&map, p.sha256.as_str()).ok().flatten().is_some() {
        return Ok(());
    }
    // Photos added in the same millisecond keep the order they were added in.
    let seq = doc
        .keys(&map)
        .filter_map(|k| match doc.get(&map, k.as_str()).ok().flatten() {
            Some((Value::Object(ObjType::Map), obj)) => f64_at(doc, &obj, "seq"),
            _ => None,
        })
        .fold(0.0, f64::max) as u64
        + 1;
    let obj = doc
        .put_object(&map, p.sha256.as_str(), ObjType::Map)
        .map_err(automerge_error)?;
    doc.put(&obj, "media_type", p.media_type.as_str())
        .map_err(automerge_error)?;
    doc.put(
        &obj,
        "size_bytes",
        ScalarValue::Uint(p.size_bytes.max(0) as u64),
    )
    .map_err(automerge_error)?;
    if let Some(w) = p.width {
        doc.put(&obj, "width", ScalarValue::Uint(w.max(0) as u64))
            .map_err(automerge_error)?;
    }
    if let Some(h) = p.height {
        doc.put(&obj, "height", ScalarValue::Uint(h.max(0) as u64))
            .map_err(automerge_error)?;
    }
    doc.put(
        &obj,
        "added_at",
        ScalarValue::Timestamp(at.timestamp_millis()),
    )
    .map_err(automerge_error)?;
    doc.put(&obj, "seq", ScalarValue::Uint(seq))
        .map_err(automerge_error)?;
    Ok(())
}

/// Removes a photo reference. Returns whether there was one.
pub(crate) fn remove_photo(doc: &mut AutoCommit, sha256: &str) -> Result<bool> {
    let Some(map) = root_map(doc, "photos") else {
        return Ok(false);
    };
    if doc.get(&map, sha256).ok().flatten().is_none() {
        return Ok(false);
    }
    doc.delete(&map, sha256).map_err(automerge_error)?;
    Ok(true)
}

#[cfg(test)]
mod tests;
