//! Erasure of a person from report and case documents (PIPL art. 47; decision 0009).
//!
//! An Automerge document keeps every value it ever held, and each change names its actor, so
//! replacing a report's `author` by an edit would leave the person's id in the history that
//! every replica carries. An erasure therefore *rewrites* the document: a new document with the
//! same content, every string equal to the erased user id replaced by [`ERASED_USER`], written
//! in one change by a fresh random actor, with none of the old history.
//!
//! - A report becomes a document of that one change.
//! - A case keeps the canonical genesis every device starts from (`case::genesis`: the
//!   server's integrity checks and every device's merges rely on it), and then one change
//!   holding every event.
//!
//! The hash of that change is the new history's *base*: every copy on the new history holds
//! it, and no copy of the old history can. The server refuses changes that do not descend
//! from it ([`descends_from`]), and tells devices the base so that a device whose copy lacks it
//! drops the copy and fetches the new one (`docs/sync-protocol.md`, "Erasure").
//!
//! Exactly-equal strings are replaced: the author and owner fields, a case event's actor.
//! Free text (a description, a note) is the content of the report, kept as written.

use automerge::hydrate;
use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, AutoCommit, Change, ChangeHash, ROOT, ReadDoc, ScalarValue};
use chrono::{DateTime, Utc};
use std::collections::HashSet;

use super::ReportId;
use crate::error::{Error, Result};
use crate::store::documents::automerge_error;

/// The owner, author and actor an erased person's documents name instead of them. It is a
/// valid user id, so devices accept it in feeds, and the server refuses it as the name of a new
/// account, so it never belongs to anyone.
pub const ERASED_USER: &str = "erased";

/// A document rewritten without a person.
pub struct Rewritten {
    /// The new document.
    pub doc: AutoCommit,
    /// The hash of the change that holds its content: the base of the new history.
    pub base: ChangeHash,
}

/// Replaces every string scalar equal to `user` in `value` by [`ERASED_USER`]; returns how
/// many it replaced.
fn replace_user(value: &mut hydrate::Value, user: &str) -> usize {
    match value {
        hydrate::Value::Scalar(ScalarValue::Str(s)) if s.as_str() == user => {
            *value = hydrate::Value::Scalar(ScalarValue::Str(ERASED_USER.into()));
            1
        }
        hydrate::Value::Map(map) => {
            let keys: Vec<String> = map.iter().map(|(k, _)| k.clone()).collect();
            let mut n = 0;
            for k in &keys {
                if let Some(v) = map.get_mut(k) {
                    n += replace_user(v, user);
                }
            }
            n
        }
        hydrate::Value::List(list) => (0..list.len())
            .filter_map(|i| list.get_mut(i).map(|v| replace_user(v, user)))
            .sum(),
        _ => 0,
    }
}

/// Whether the current content of `doc` names `user` (as a whole string).
pub fn names_user(doc: &AutoCommit, user: &str) -> Result<bool> {
    let mut content = doc.hydrate(ROOT, None).map_err(automerge_error)?;
    Ok(replace_user(&mut content, user) > 0)
}

/// Commits the rewrite as one change at `at`, returning its hash.
fn commit(doc: &mut AutoCommit, at: DateTime<Utc>) -> Result<ChangeHash> {
    doc.commit_with(
        CommitOptions::default()
            .with_time(at.timestamp())
            .with_message("erasure".to_string()),
    )
    .ok_or_else(|| Error::Internal("the rewritten document has no change".into()))
}

/// A report document with the same content as `doc`, `user` replaced by [`ERASED_USER`], and
/// no history.
pub fn rewrite_report(doc: &AutoCommit, user: &str, at: DateTime<Utc>) -> Result<Rewritten> {
    let mut content = doc.hydrate(ROOT, None).map_err(automerge_error)?;
    replace_user(&mut content, user);
    let hydrate::Value::Map(root) = &content else {
        return Err(Error::Internal("report document root is not a map".into()));
    };
    let mut fresh =
        AutoCommit::new_with_encoding(doc.text_encoding()).with_actor(ActorId::random());
    fresh
        .init_root_from_hydrate(root)
        .map_err(automerge_error)?;
    let base = commit(&mut fresh, at)?;
    Ok(Rewritten { doc: fresh, base })
}

/// A case document with the same events as `doc`, `user` replaced by [`ERASED_USER`]: the
/// canonical genesis of `report`'s case, then one change holding every event.
pub fn rewrite_case(
    doc: &AutoCommit,
    report: &ReportId,
    user: &str,
    at: DateTime<Utc>,
) -> Result<Rewritten> {
    let mut events = match doc.get(ROOT, "events").map_err(automerge_error)? {
        Some((_, obj)) => doc.hydrate(obj, None).map_err(automerge_error)?,
        None => hydrate::Value::map(),
    };
    replace_user(&mut events, user);
    let mut fresh = super::case::genesis(report)?;
    fresh.set_actor(ActorId::random());
    let events_obj = match fresh.get(ROOT, "events").map_err(automerge_error)? {
        Some((_, obj)) => obj,
        None => return Err(Error::Internal("the case genesis has no events map".into())),
    };
    if let hydrate::Value::Map(map) = &events {
        for (id, value) in map.iter() {
            fresh
                .batch_create_object(&events_obj, id.as_str(), &value.value, false)
                .map_err(automerge_error)?;
        }
    }
    let base = commit(&mut fresh, at)?;
    Ok(Rewritten { doc: fresh, base })
}

/// Whether every change of `new_changes` (in causal order, as automerge gives them) descends
/// from `base` in `doc`, the document that now holds them. A copy from before an erasure shares
/// no change with the new history past the case genesis, so its changes never do.
pub fn descends_from(doc: &mut AutoCommit, base: &ChangeHash, new_changes: &[Change]) -> bool {
    // The base and everything after it: the stored copy holds only these, and its ancestors.
    let mut after_base: HashSet<ChangeHash> = HashSet::from([*base]);
    let new: HashSet<ChangeHash> = new_changes.iter().map(Change::hash).collect();
    for c in doc.get_changes(&[*base]) {
        if !new.contains(&c.hash()) {
            after_base.insert(c.hash());
        }
    }
    for c in new_changes {
        if !c.deps().iter().any(|d| after_base.contains(d)) {
            return false;
        }
        after_base.insert(c.hash());
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::case::integrity::writer_actor;
    use chrono::TimeZone;

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 30, 4, 0, 0).unwrap()
    }

    fn report_doc(author: &str) -> AutoCommit {
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "schema", "waystation/report").unwrap();
        doc.put(ROOT, "author", author).unwrap();
        doc.put(ROOT, "description", "rider-1 的外卖封签被撕开")
            .unwrap();
        doc.commit();
        doc.put(ROOT, "district", "610103").unwrap();
        doc.commit();
        doc
    }

    #[test]
    fn a_rewritten_report_has_one_change_and_names_the_user_nowhere_but_in_free_text() {
        let old = report_doc("rider-1");
        assert!(names_user(&old, "rider-1").unwrap());
        let mut new = rewrite_report(&old, "rider-1", at()).unwrap();
        assert!(!names_user(&new.doc, "rider-1").unwrap());
        assert_eq!(new.doc.get_changes(&[]).len(), 1, "no history");
        assert_eq!(new.doc.get_heads(), [new.base]);
        assert_eq!(
            crate::store::documents::root_str(&new.doc, "author").as_deref(),
            Some(ERASED_USER)
        );
        // Free text is content, kept as written.
        assert_eq!(
            crate::store::documents::root_str(&new.doc, "description").as_deref(),
            Some("rider-1 的外卖封签被撕开")
        );
    }

    #[test]
    fn only_changes_built_on_the_new_history_descend_from_its_base() {
        let old = report_doc("rider-1");
        let Rewritten { mut doc, base } = rewrite_report(&old, "rider-1", at()).unwrap();

        // A change on the new history.
        let mut on_new = doc.fork().with_actor(writer_actor("sup-1"));
        on_new.put(ROOT, "district", "610113").unwrap();
        on_new.commit();
        let new_changes = on_new.get_changes(&doc.get_heads());
        assert!(descends_from(&mut on_new, &base, &new_changes));

        // A change on the old history, merged into the new: refused.
        let mut on_old = old.clone();
        on_old.put(ROOT, "district", "610113").unwrap();
        on_old.commit();
        let before = doc.get_heads();
        doc.merge(&mut on_old).unwrap();
        let merged = doc.get_changes(&before);
        assert!(!merged.is_empty());
        assert!(!descends_from(&mut doc, &base, &merged));
    }
}
