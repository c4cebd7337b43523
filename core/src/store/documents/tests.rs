//! Tests of the document store (`store::documents`).

use super::*;
use crate::store::Store;
use automerge::{ObjType, ROOT, ScalarValue, Value, transaction::Transactable};

const KEY: DocumentKey<'static> = DocumentKey {
    doc_id: "test:1",
    kind: "test",
    owner: "u1",
};

fn t(s: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap()
}

fn genesis() -> Result<AutoCommit> {
    let mut d = AutoCommit::new().with_actor(automerge::ActorId::from(&[1u8; 16][..]));
    d.put_object(ROOT, "items", ObjType::Map).unwrap();
    d.commit_with(CommitOptions::default().with_time(0));
    d.set_actor(automerge::ActorId::random());
    Ok(d)
}

fn items(doc: &AutoCommit) -> Vec<(String, i64)> {
    let Some((Value::Object(_), items)) = doc.get(ROOT, "items").unwrap() else {
        panic!("no items map")
    };
    doc.keys(&items)
        .map(|k| {
            let v = match doc.get(&items, k.as_str()).unwrap() {
                Some((Value::Scalar(s), _)) => match s.as_ref() {
                    ScalarValue::Int(i) => *i,
                    _ => panic!(),
                },
                _ => panic!(),
            };
            (k, v)
        })
        .collect()
}

fn put(conn: &mut Connection, i: i64) {
    edit(conn, &KEY, t(i), genesis, |d| {
        let (_, items) = d.get(ROOT, "items").unwrap().unwrap();
        d.put(&items, format!("k{i:04}"), i).unwrap();
        Ok(())
    })
    .unwrap();
}

#[test]
fn every_acknowledged_edit_survives_reopen_and_compaction() {
    let dir = tempfile::tempdir().unwrap();
    let n = COMPACT_AFTER_CHANGES as i64 * 2 + 7;
    {
        let store = Store::open(dir.path()).unwrap();
        for i in 0..n {
            put(&mut store.write(), i);
            // Never more than the threshold of changes beside the snapshot.
            let info = info(&store.read(), KEY.doc_id).unwrap().unwrap();
            assert!(info.pending_changes <= COMPACT_AFTER_CHANGES);
        }
    }
    let store = Store::open(dir.path()).unwrap();
    let doc = load(&store.read(), KEY.doc_id).unwrap().unwrap();
    let got = items(&doc);
    assert_eq!(got.len(), n as usize);
    assert_eq!(got[5], ("k0005".to_string(), 5));
    let info = info(&store.read(), KEY.doc_id).unwrap().unwrap();
    assert!(info.dirty);
    assert_eq!(info.kind, "test");
    assert_eq!(info.owner, "u1");
    assert_eq!(info.heads, {
        let mut h = doc.clone().get_heads();
        h.sort();
        h
    });
    let ok: String = store
        .read()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
}

/// An edit of [`KEY`] through the store's edit cache, at time `i`.
fn edit_cached(
    store: &Store,
    i: i64,
    edit: impl FnOnce(&mut AutoCommit) -> Result<()>,
    after: impl FnOnce(&Connection, &mut AutoCommit) -> Result<()>,
) -> Result<()> {
    edit_then_cached(
        &mut store.write(),
        Some(store.edit_cache()),
        &KEY,
        t(i),
        genesis,
        edit,
        after,
    )
}

fn put_cached(store: &Store, i: i64, expect: usize) {
    edit_cached(
        store,
        i,
        |d| {
            // The document the edit sees is the whole stored one, cached or not.
            assert_eq!(items(d).len(), expect, "edit {i} saw a stale document");
            let (_, items) = d.get(ROOT, "items").unwrap().unwrap();
            d.put(&items, format!("k{i:04}"), i).unwrap();
            Ok(())
        },
        |_, _| Ok(()),
    )
    .unwrap();
}

#[test]
fn the_edit_cache_is_missed_after_any_other_write_never_stale() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    put_cached(&store, 0, 0);
    assert_eq!(store.edit_cache().cached().as_deref(), Some(KEY.doc_id));
    put_cached(&store, 1, 1);
    // Another process writes the same document (a second store on the same file).
    let other = Store::open(dir.path()).unwrap();
    put(&mut other.write(), 2);
    // Still cached, but its heads are not the stored ones: the edit loads and sees k0002.
    put_cached(&store, 3, 3);
    // Compaction by the other process, then an edit: same.
    assert!(compact(&mut other.write(), KEY.doc_id).unwrap());
    put(&mut other.write(), 4);
    put_cached(&store, 5, 5);
    // Past the compaction threshold, with the cache in use all the way.
    for i in 6..(COMPACT_AFTER_CHANGES as i64 + 20) {
        put_cached(&store, i, i as usize);
    }
    drop(store);
    let reopened = Store::open(dir.path()).unwrap();
    let doc = load(&reopened.read(), KEY.doc_id).unwrap().unwrap();
    assert_eq!(items(&doc).len(), COMPACT_AFTER_CHANGES as usize + 20);
}

/// A cached edit that puts `key` and then fails, in the edit itself or in its `after` hook.
fn failing_edit(store: &Store, i: i64, key: &str, in_after: bool) {
    let err = edit_cached(
        store,
        i,
        |d| {
            let (_, items) = d.get(ROOT, "items").unwrap().unwrap();
            d.put(&items, key, i).unwrap();
            if in_after {
                Ok(())
            } else {
                Err(Error::invalid("refused"))
            }
        },
        |_, _| {
            if in_after {
                Err(Error::invalid("index refused"))
            } else {
                Ok(())
            }
        },
    );
    assert!(err.is_err());
    assert_eq!(store.edit_cache().cached(), None);
}

#[test]
fn a_failed_edit_empties_the_edit_cache() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    put_cached(&store, 0, 0);
    failing_edit(&store, 1, "half-done", false);
    // The next edit loads what is stored, without the refused edit's change.
    put_cached(&store, 2, 1);
    // A failing `after` hook (say the index write) also drops it.
    failing_edit(&store, 3, "not-indexed", true);
    put_cached(&store, 4, 2);
    store.edit_cache().clear();
    put_cached(&store, 5, 3);
}

#[test]
fn explicit_compaction_keeps_content_and_history() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    for i in 0..5 {
        put(&mut store.write(), i);
    }
    let before = load(&store.read(), KEY.doc_id).unwrap().unwrap();
    assert_eq!(
        info(&store.read(), KEY.doc_id)
            .unwrap()
            .unwrap()
            .pending_changes,
        5
    );
    assert!(compact(&mut store.write(), KEY.doc_id).unwrap());
    assert!(!compact(&mut store.write(), "nope").unwrap());
    let after = load(&store.read(), KEY.doc_id).unwrap().unwrap();
    assert_eq!(items(&before), items(&after));
    // History is kept: the genesis plus five edits.
    assert_eq!(after.clone().get_changes(&[]).len(), 6);
    let rows: i64 = store
        .read()
        .query_row("SELECT count(*) FROM document_changes", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 0);
    // Edits after compaction append again.
    put(&mut store.write(), 99);
    let doc = load(&store.read(), KEY.doc_id).unwrap().unwrap();
    assert_eq!(items(&doc).len(), 6);
}

#[test]
fn failed_or_empty_edits_store_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let err = edit(&mut store.write(), &KEY, t(0), genesis, |d| {
        let (_, items) = d.get(ROOT, "items").unwrap().unwrap();
        d.put(&items, "x", 1).unwrap();
        Err::<(), _>(Error::invalid("nope"))
    })
    .unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)));
    assert!(load(&store.read(), KEY.doc_id).unwrap().is_none());

    put(&mut store.write(), 1);
    let heads = info(&store.read(), KEY.doc_id).unwrap().unwrap().heads;
    assert!(mark_synced(&store.write(), KEY.doc_id, &heads).unwrap());
    edit(&mut store.write(), &KEY, t(2), genesis, |_| Ok(())).unwrap();
    let i = info(&store.read(), KEY.doc_id).unwrap().unwrap();
    assert!(
        !i.dirty,
        "an edit that changed nothing keeps the document clean"
    );
    assert_eq!(i.pending_changes, 1);
    assert!(dirty_documents(&store.read()).unwrap().is_empty());
}

#[test]
fn mark_synced_needs_the_current_heads() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    put(&mut store.write(), 1);
    let old = info(&store.read(), KEY.doc_id).unwrap().unwrap().heads;
    put(&mut store.write(), 2);
    assert!(!mark_synced(&store.write(), KEY.doc_id, &old).unwrap());
    assert_eq!(dirty_documents(&store.read()).unwrap(), vec!["test:1"]);
    let now = info(&store.read(), KEY.doc_id).unwrap().unwrap().heads;
    assert!(mark_synced(&store.write(), KEY.doc_id, &now).unwrap());
    assert!(dirty_documents(&store.read()).unwrap().is_empty());
}

#[test]
fn kind_and_owner_are_fixed_and_device_id_is_stable() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    put(&mut store.write(), 1);
    let other = DocumentKey { owner: "u2", ..KEY };
    let err = edit(&mut store.write(), &other, t(0), genesis, |_| Ok(())).unwrap_err();
    assert!(err.to_string().contains("another owner"), "{err}");

    let a = device_id(&store.write()).unwrap();
    assert_eq!(a.len(), 32);
    assert_eq!(a, device_id(&store.write()).unwrap());
    let bytes = document_bytes(&store.read(), KEY.doc_id).unwrap().unwrap();
    assert_eq!(
        items(&AutoCommit::load(&bytes).unwrap()),
        vec![("k0001".into(), 1)]
    );
}
