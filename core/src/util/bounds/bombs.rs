//! Hostile Automerge chunks, built on purpose, for the tests and fuzz seeds that show
//! [`super`] refuses them: a compressed change that inflates to gigabytes, a document whose
//! deflated column does, and chunks whose headers claim lengths and runs the data cannot hold.
//! Not part of the API; hidden from the docs.
//!
//! The DEFLATE streams are made of one full-flushed block of zeros repeated: a full flush
//! resets the compressor's dictionary, so every block compresses to the same bytes and the
//! stream is built in milliseconds, where compressing gigabytes of zeros would take minutes.

use flate2::{Compress, Compression, FlushCompress, Status};

/// The magic bytes that start every Automerge chunk.
const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
/// Zeros per repeated DEFLATE block.
const BLOCK: usize = 1 << 20;

/// Raw DEFLATE data that inflates to `mib` MiB of zeros (about 1 KB per MiB).
pub fn deflated_zeros(mib: usize) -> Vec<u8> {
    let zeros = vec![0u8; BLOCK];
    let mut c = Compress::new(Compression::best(), false);
    let mut block = |input: &[u8], flush| {
        let mut out = Vec::with_capacity(64 * 1024);
        let before = c.total_in();
        let status = c.compress_vec(input, &mut out, flush);
        assert!(matches!(status, Ok(Status::Ok | Status::StreamEnd)));
        assert_eq!((c.total_in() - before) as usize, input.len());
        out
    };
    let first = block(&zeros, FlushCompress::Full);
    let again = block(&zeros, FlushCompress::Full);
    assert_eq!(
        first, again,
        "a full flush makes blocks of zeros compress alike"
    );
    let end = block(&[], FlushCompress::Finish);
    let mut stream = Vec::with_capacity(first.len() * mib + end.len());
    for _ in 0..mib {
        stream.extend_from_slice(&first);
    }
    stream.extend_from_slice(&end);
    stream
}

/// A chunk of `chunk_type` around `body`, with a checksum of zeros (it is never reached).
pub fn chunk(chunk_type: u8, body: &[u8]) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.extend([0; 4]);
    out.push(chunk_type);
    uleb(&mut out, body.len() as u64);
    out.extend_from_slice(body);
    out
}

/// A compressed change (chunk type 2) that inflates to `mib` MiB of zeros: 4096 MiB make a
/// chunk of about 4 MB.
pub fn compressed_change(mib: usize) -> Vec<u8> {
    chunk(2, &deflated_zeros(mib))
}

/// A whole-document chunk (type 0) with no actors, heads or changes, and one deflated
/// integer operation column that inflates to `mib` MiB of zeros.
pub fn document_with_deflated_column(mib: usize) -> Vec<u8> {
    let column = deflated_zeros(mib);
    let mut body = vec![0, 0, 0]; // no actors, no heads, no change columns
    body.push(1); // one operation column
    uleb(&mut body, (2 | 0b1000) as u64); // column 0, integer, deflated
    uleb(&mut body, column.len() as u64);
    body.extend_from_slice(&column);
    chunk(0, &body)
}

/// A chunk whose length field claims 2^62 bytes after a header of a few.
pub fn chunk_claiming_huge_length() -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.extend([0; 4]);
    out.push(1);
    uleb(&mut out, 1 << 62);
    out.extend([0; 16]);
    out
}

/// A change chunk whose operation column claims 2^40 bytes of data.
pub fn change_claiming_huge_column() -> Vec<u8> {
    let mut body = change_prefix();
    body.push(1);
    uleb(&mut body, 4 << 4 | 2); // action column, integer
    uleb(&mut body, 1 << 40);
    body.extend([0; 8]);
    chunk(1, &body)
}

/// A change chunk of a dozen bytes whose action column is one run-length header claiming
/// 2^60 operations (a run of nulls): an expansion bomb with no compression at all.
pub fn change_claiming_huge_run() -> Vec<u8> {
    let mut column = vec![0]; // a null run...
    uleb(&mut column, 1 << 60); // ...of 2^60 rows
    let mut body = change_prefix();
    body.push(1);
    uleb(&mut body, 4 << 4 | 2); // action column, integer
    uleb(&mut body, column.len() as u64);
    body.extend_from_slice(&column);
    chunk(1, &body)
}

/// A v1 sync message with no heads, needs or haves, carrying `changes`.
pub fn sync_message(changes: &[Vec<u8>]) -> Vec<u8> {
    let mut out = vec![0x42, 0, 0, 0];
    uleb(&mut out, changes.len() as u64);
    for c in changes {
        uleb(&mut out, c.len() as u64);
        out.extend_from_slice(c);
    }
    out
}

/// A change body up to its operation columns: no deps, a 16-byte actor, seq 1, start op 1,
/// time 0, no message, no other actors.
fn change_prefix() -> Vec<u8> {
    let mut body = vec![0, 16];
    body.extend([0xab; 16]);
    body.extend([1, 1, 0, 0, 0]);
    body
}

fn uleb(out: &mut Vec<u8>, n: u64) {
    // Writing into a Vec cannot fail.
    let _ = leb128::write::unsigned(out, n);
}
