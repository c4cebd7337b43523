use super::*;
use automerge::sync::{State, SyncDoc};
use automerge::transaction::Transactable;
use automerge::{AutoCommit, ObjType, ROOT};

/// A document with a text of `chars` characters (one operation each) and a few fields.
fn doc_with_text(chars: usize) -> AutoCommit {
    let mut doc = AutoCommit::new();
    doc.put(ROOT, "schema", "report/1").unwrap();
    let text = doc.put_object(ROOT, "description", ObjType::Text).unwrap();
    let words: String = (0..chars)
        .map(|i| (b'a' + (i % 26) as u8) as char)
        .collect();
    doc.splice_text(&text, 0, 0, &words).unwrap();
    doc.commit();
    doc.put(ROOT, "status", "submitted").unwrap();
    doc.commit();
    doc
}

/// The message a peer that has nothing receives from `doc`: all its changes.
fn first_reply(doc: &mut AutoCommit) -> Message {
    let mut peer = AutoCommit::new();
    let mut peer_state = State::new();
    let mut state = State::new();
    let hello = peer.sync().generate_sync_message(&mut peer_state).unwrap();
    doc.sync().receive_sync_message(&mut state, hello).unwrap();
    doc.sync().generate_sync_message(&mut state).unwrap()
}

fn message(chunks: &[Vec<u8>]) -> Message {
    Message::decode(&bombs::sync_message(chunks)).unwrap()
}

#[test]
fn real_changes_and_documents_pass_and_are_measured() {
    // Large enough that automerge compresses the change (over 256 bytes).
    let mut doc = doc_with_text(5000);
    let m = first_reply(&mut doc);
    let size = check_message(&m, &MessageBounds::default()).unwrap();
    assert!(size.ops >= 5000 && size.ops < 5100, "{size:?}");
    assert!(size.inflated_bytes > 5000, "{size:?}");
    // A peer that has nothing gets the whole document (chunk type 0).
    assert!(m.changes.iter().all(|c| c[8] == 0));
    // The same content as changes, compressed (chunk type 2, as `Change::bytes` gives them),
    // holds as many operations.
    let compressed: Vec<Vec<u8>> = doc
        .get_changes(&[])
        .into_iter()
        .map(|mut c| c.bytes().into_owned())
        .collect();
    assert!(compressed.iter().any(|c| c[8] == 2), "a compressed change");
    let as_changes = check_message(&message(&compressed), &MessageBounds::default()).unwrap();
    assert_eq!(as_changes.ops, size.ops);
    assert!(as_changes.inflated_bytes > 5000, "{as_changes:?}");

    // A saved document deflates its large columns; with no compression it has none.
    let saved = doc.save();
    let plain = doc.save_nocompress();
    let a = check_chunks(&saved, &MessageBounds::default()).unwrap();
    let b = check_chunks(&plain, &MessageBounds::default()).unwrap();
    assert!(saved.len() < plain.len());
    // The same measure whatever the compression, give or take the LEB128 column lengths.
    assert_eq!(a.ops, b.ops);
    assert!(
        a.inflated_bytes.abs_diff(b.inflated_bytes) < 8,
        "{a:?} {b:?}"
    );
    assert!(a.ops >= 5000, "{a:?}");

    // A small document's uncompressed changes pass too.
    let mut small = doc_with_text(3);
    let plain: Vec<Vec<u8>> = small
        .get_changes(&[])
        .iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect();
    assert!(plain.iter().all(|c| c[8] == 1));
    let size = check_message(&message(&plain), &MessageBounds::default()).unwrap();
    assert_eq!(size.ops, 6, "{size:?}");
}

#[test]
fn a_compressed_change_that_inflates_to_gigabytes_is_refused_at_the_limit() {
    let bomb = bombs::compressed_change(4096);
    assert!(bomb.len() < 5_000_000, "{}", bomb.len());
    let e = check_message(&message(&[bomb]), &MessageBounds::default()).unwrap_err();
    assert_eq!(
        e,
        BoundsError::TooLarge {
            limit: MAX_INFLATED_MESSAGE_BYTES
        }
    );
    assert!(e.to_string().contains("inflates to more than"), "{e}");
}

#[test]
fn the_byte_limit_counts_every_chunk_of_the_message() {
    // Each change inflates to 1 MiB of zeros; three together pass a 2.5 MiB limit.
    let bounds = MessageBounds {
        max_inflated_bytes: 5 << 19,
        max_ops: 10,
    };
    let one = bombs::compressed_change(1);
    let size = check_message(&message(std::slice::from_ref(&one)), &bounds).unwrap();
    assert_eq!(size.inflated_bytes, 1 << 20);
    let e = check_message(&message(&[one.clone(), one.clone(), one]), &bounds).unwrap_err();
    assert_eq!(e, BoundsError::TooLarge { limit: 5 << 19 });
}

#[test]
fn a_document_with_a_deflated_column_bomb_is_refused() {
    let bomb = bombs::document_with_deflated_column(1024);
    let e = check_message(
        &message(std::slice::from_ref(&bomb)),
        &MessageBounds::default(),
    )
    .unwrap_err();
    assert!(matches!(e, BoundsError::TooLarge { .. }), "{e}");
    let e = check_chunks(&bomb, &MessageBounds::default()).unwrap_err();
    assert!(matches!(e, BoundsError::TooLarge { .. }), "{e}");
}

#[test]
fn headers_claiming_huge_lengths_are_refused_without_allocating() {
    for (bomb, says) in [
        (bombs::chunk_claiming_huge_length(), "the chunk body claims"),
        (
            bombs::change_claiming_huge_column(),
            "an operation column claims 1099511627776 bytes",
        ),
    ] {
        let e = check_message(&message(&[bomb]), &MessageBounds::default()).unwrap_err();
        assert!(
            matches!(&e, BoundsError::Malformed(m) if m.contains(says)),
            "{e}"
        );
    }
}

#[test]
fn a_run_claiming_billions_of_operations_is_refused() {
    let bomb = bombs::change_claiming_huge_run();
    assert!(bomb.len() < 64);
    let e = check_message(&message(&[bomb]), &MessageBounds::default()).unwrap_err();
    assert_eq!(
        e,
        BoundsError::TooManyOps {
            limit: MAX_OPS_PER_MESSAGE
        }
    );
}

#[test]
fn the_operation_limit_counts_real_operations() {
    let mut doc = doc_with_text(2000);
    let m = first_reply(&mut doc);
    let bounds = MessageBounds {
        max_ops: 1500,
        ..MessageBounds::default()
    };
    assert_eq!(
        check_message(&m, &bounds).unwrap_err(),
        BoundsError::TooManyOps { limit: 1500 }
    );
}

#[test]
fn truncated_and_foreign_chunks_are_refused() {
    let mut doc = doc_with_text(10);
    let m = first_reply(&mut doc);
    let change: Vec<u8> = m.changes.iter().next().unwrap().to_vec();
    for cut in 0..change.len() {
        let e = check_chunks(&change[..cut], &MessageBounds::default());
        assert!(cut == 0 || e.is_err(), "cut at {cut}");
    }
    let mut bundle = change.clone();
    bundle[8] = 3;
    assert!(check_chunks(&bundle, &MessageBounds::default()).is_err());
    let mut bad = change;
    bad[0] ^= 1;
    assert!(check_chunks(&bad, &MessageBounds::default()).is_err());
}
