//! Bounding Automerge input from the network before automerge reads it.
//!
//! automerge 0.12 trusts the bytes it loads. A compressed change (chunk type 2) is inflated
//! with `read_to_end` and no cap, and so is every deflated column of a whole-document chunk:
//! 4 MB of DEFLATE make 4 GiB of zeros, and the out-of-memory abort that follows kills the
//! process (`catch_unwind` cannot catch it). Its run-length encoded columns are expanded the
//! same way: a run header of a few bytes can claim 2^60 operations, and loading them loops
//! and allocates for as long as the header says.
//!
//! So the server (`waystation_server::decode_sync_request`) and the device (before it applies
//! a server's reply) walk every chunk's framing here first, with their own parser of the
//! storage format (<https://alexjg.github.io/automerge-storage-docs/>, and automerge's
//! `rust/automerge/src/storage/`):
//!
//! - the chunk header (magic, checksum, type, LEB128 length) and every length and count inside
//!   it are checked against the bytes that actually follow, never used to allocate;
//! - deflated data (a compressed change, a deflated column) is inflated streaming, with a hard
//!   cap on the output: the budget left for the whole message, so a bomb stops after at most
//!   that many bytes whatever its header or DEFLATE stream claims;
//! - the operations are counted from the columns' run-length encoding (the number of rows of
//!   the longest column, which is what automerge iterates), without expanding any run.
//!
//! The limits apply to one document's sync message, all its chunks together, because that is
//! what automerge holds in memory at once ([`MessageBounds`]). The inflated bytes are thrown
//! away after the check: automerge inflates again, now known to be bounded. Inflating twice
//! costs CPU in proportion to the bound, which is small; keeping our own copy would mean
//! feeding automerge something other than what the peer sent.

use std::io::Read;

use automerge::sync::Message;

/// Most bytes one document's sync message may inflate to (compressed changes and deflated
/// columns expanded), checked before automerge reads it. Twice the protocol's document limit
/// (`sync::policy::MAX_DOCUMENT_BYTES`, 4 MiB, which is the store's and so above this module):
/// room for a whole document sent as changes, far from an out-of-memory.
pub const MAX_INFLATED_MESSAGE_BYTES: usize = 2 * 4 * 1024 * 1024;
/// Most operations one document's sync message may carry, counted from its columns before
/// automerge expands them. A report is tens of operations, a text field one per character;
/// this leaves a hundredfold margin over the largest real document.
pub const MAX_OPS_PER_MESSAGE: u64 = 250_000;

/// The magic bytes that start every Automerge chunk.
const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
/// The column-specification bit that marks a deflated column.
const DEFLATE_BIT: u32 = 0b1000;

/// How much one document's sync message may expand to, all its chunks together.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MessageBounds {
    /// Most bytes the message's chunks may hold once every deflated part is inflated.
    pub max_inflated_bytes: usize,
    /// Most operations (rows of the longest column of each chunk, summed) the message may
    /// carry.
    pub max_ops: u64,
}

impl Default for MessageBounds {
    /// The protocol's limits: [`MAX_INFLATED_MESSAGE_BYTES`] and [`MAX_OPS_PER_MESSAGE`].
    fn default() -> Self {
        Self {
            max_inflated_bytes: MAX_INFLATED_MESSAGE_BYTES,
            max_ops: MAX_OPS_PER_MESSAGE,
        }
    }
}

/// What a message was measured to hold, once inflated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MessageSize {
    /// Bytes of its chunks with every deflated part inflated.
    pub inflated_bytes: usize,
    /// Operations, counted as in [`MessageBounds::max_ops`].
    pub ops: u64,
}

/// Why a message was refused before automerge read it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BoundsError {
    /// The chunk framing is not what the storage format allows (a length or count that
    /// reaches past the data, an unknown chunk type, a broken DEFLATE stream, ...).
    #[error("{0}")]
    Malformed(String),
    /// Inflating it would pass the byte limit.
    #[error(
        "it inflates to more than {limit} bytes; at most {limit} bytes (inflated) are accepted \
         in one document's sync message"
    )]
    TooLarge {
        /// The limit it passed.
        limit: usize,
    },
    /// It carries more operations than allowed.
    #[error(
        "it carries more than {limit} operations; at most {limit} are accepted in one \
         document's sync message"
    )]
    TooManyOps {
        /// The limit it passed.
        limit: u64,
    },
}

fn malformed(what: impl Into<String>) -> BoundsError {
    BoundsError::Malformed(what.into())
}

/// Measures every chunk of a decoded sync message against `bounds`, before automerge parses
/// any of them (`Message::decode` keeps chunks as raw bytes).
pub fn check_message(
    message: &Message,
    bounds: &MessageBounds,
) -> Result<MessageSize, BoundsError> {
    let mut budget = Budget::new(bounds);
    for entry in message.changes.iter() {
        let mut rest: &[u8] = entry;
        if rest.is_empty() {
            return Err(malformed("an empty change"));
        }
        while !rest.is_empty() {
            rest = check_chunk_prefix(rest, &mut budget)?;
        }
    }
    Ok(budget.used())
}

/// Measures one or more concatenated chunks (a saved document, a change) against `bounds`.
pub fn check_chunks(bytes: &[u8], bounds: &MessageBounds) -> Result<MessageSize, BoundsError> {
    let mut budget = Budget::new(bounds);
    let mut rest = bytes;
    while !rest.is_empty() {
        rest = check_chunk_prefix(rest, &mut budget)?;
    }
    Ok(budget.used())
}

/// What is left of the limits while a message is measured.
struct Budget {
    bounds: MessageBounds,
    bytes: usize,
    ops: u64,
}

impl Budget {
    fn new(bounds: &MessageBounds) -> Self {
        Self {
            bounds: *bounds,
            bytes: 0,
            ops: 0,
        }
    }

    fn used(&self) -> MessageSize {
        MessageSize {
            inflated_bytes: self.bytes,
            ops: self.ops,
        }
    }

    /// Bytes that may still be inflated.
    fn bytes_left(&self) -> usize {
        self.bounds.max_inflated_bytes.saturating_sub(self.bytes)
    }

    fn add_bytes(&mut self, n: usize) -> Result<(), BoundsError> {
        self.bytes = self.bytes.saturating_add(n);
        if self.bytes > self.bounds.max_inflated_bytes {
            return Err(BoundsError::TooLarge {
                limit: self.bounds.max_inflated_bytes,
            });
        }
        Ok(())
    }

    /// Operations that may still be counted.
    fn ops_left(&self) -> u64 {
        self.bounds.max_ops.saturating_sub(self.ops)
    }

    fn add_ops(&mut self, n: u64) -> Result<(), BoundsError> {
        self.ops = self.ops.saturating_add(n);
        if self.ops > self.bounds.max_ops {
            return Err(BoundsError::TooManyOps {
                limit: self.bounds.max_ops,
            });
        }
        Ok(())
    }
}

/// Checks the chunk at the start of `bytes`, returning what follows it.
fn check_chunk_prefix<'a>(bytes: &'a [u8], budget: &mut Budget) -> Result<&'a [u8], BoundsError> {
    let mut r = Reader::new(bytes);
    if r.take(4, "the chunk's magic bytes")? != MAGIC {
        return Err(malformed("not an Automerge chunk (bad magic bytes)"));
    }
    r.take(4, "the chunk's checksum")?;
    let chunk_type = r.take(1, "the chunk type")?[0];
    let body_len = r.uleb("the chunk length")?;
    let body = r.take_u64(body_len, "the chunk body")?;
    match chunk_type {
        0 => check_document(body, budget)?,
        1 => {
            budget.add_bytes(body.len())?;
            check_change(body, budget)?;
        }
        2 => {
            let inflated = inflate(body, budget, "the compressed change")?;
            budget.add_bytes(inflated.len())?;
            check_change(&inflated, budget)?;
        }
        3 => {
            return Err(malformed(
                "a bundle chunk; sync carries only documents and changes",
            ));
        }
        other => return Err(malformed(format!("unknown chunk type {other}"))),
    }
    Ok(r.rest())
}

/// A change chunk's body: dependencies, actor, seq, start op, time, message, other actors,
/// the operation columns' specifications and their data, then extra bytes.
fn check_change(body: &[u8], budget: &mut Budget) -> Result<(), BoundsError> {
    let mut r = Reader::new(body);
    let deps = r.uleb("the dependency count")?;
    r.take_n_of(deps, 32, "the dependencies")?;
    r.bytes_with_len("the actor id")?;
    r.uleb("the sequence number")?;
    r.uleb("the start operation")?;
    r.sleb("the time")?;
    r.bytes_with_len("the change message")?;
    let actors = r.uleb("the other actors' count")?;
    for _ in 0..actors {
        r.bytes_with_len("another actor id")?;
    }
    let columns = r.column_specs("operation")?;
    let mut rows = 0;
    for (spec, len) in columns {
        let data = r.take_u64(len, "an operation column")?;
        if spec & DEFLATE_BIT != 0 {
            return Err(malformed("a change with a deflated column"));
        }
        rows = rows.max(column_rows(spec, data, budget.ops_left())?);
    }
    budget.add_ops(rows)
}

/// A whole-document chunk's body: actors, heads, the change and operation columns'
/// specifications, their data (each column possibly deflated), then head indices.
fn check_document(body: &[u8], budget: &mut Budget) -> Result<(), BoundsError> {
    let mut r = Reader::new(body);
    let actors = r.uleb("the actor count")?;
    for _ in 0..actors {
        r.bytes_with_len("an actor id")?;
    }
    let heads = r.uleb("the head count")?;
    r.take_n_of(heads, 32, "the heads")?;
    let change_columns = r.column_specs("change")?;
    let op_columns = r.column_specs("operation")?;
    // Everything but the deflated columns counts as it stands; those count once inflated.
    let mut plain = body.len();
    let mut change_rows = 0;
    let mut op_rows = 0;
    for (i, (spec, len)) in change_columns.iter().chain(&op_columns).enumerate() {
        let stored = r.take_u64(*len, "a document column")?;
        let inflated;
        let data = if spec & DEFLATE_BIT != 0 {
            plain -= stored.len();
            inflated = inflate(stored, budget, "a deflated column")?;
            budget.add_bytes(inflated.len())?;
            &inflated[..]
        } else {
            stored
        };
        let n = column_rows(*spec, data, budget.ops_left())?;
        if i < change_columns.len() {
            change_rows = change_rows.max(n);
        } else {
            op_rows = op_rows.max(n);
        }
    }
    // The rest are head indices, one LEB128 number per head: no expansion there.
    budget.add_bytes(plain)?;
    budget.add_ops(change_rows.max(op_rows))
}

/// Inflates raw DEFLATE data, streaming, refusing as soon as the output passes what is left
/// of the budget: nothing the stream or a header claims is trusted, and at most that many
/// bytes plus one are ever held.
fn inflate(data: &[u8], budget: &Budget, what: &str) -> Result<Vec<u8>, BoundsError> {
    let cap = budget.bytes_left();
    let limit = u64::try_from(cap).unwrap_or(u64::MAX).saturating_add(1);
    let mut out = Vec::new();
    flate2::read::DeflateDecoder::new(data)
        .take(limit)
        .read_to_end(&mut out)
        .map_err(|_| malformed(format!("{what} is not valid DEFLATE data")))?;
    if out.len() > cap {
        return Err(BoundsError::TooLarge {
            limit: budget.bounds.max_inflated_bytes,
        });
    }
    Ok(out)
}

/// The number of rows a column holds, read from its encoding without expanding a run;
/// refuses once past `max`. Raw value columns hold no rows of their own (their lengths come
/// from the value-metadata column, which is counted).
fn column_rows(spec: u32, data: &[u8], max: u64) -> Result<u64, BoundsError> {
    let mut r = Reader::new(data);
    let mut rows: u64 = 0;
    let mut add = |n: u64| {
        rows = rows.saturating_add(n);
        if rows > max {
            Err(BoundsError::TooManyOps { limit: max })
        } else {
            Ok(())
        }
    };
    match spec & 0b111 {
        // Raw values.
        7 => {}
        // Booleans: alternating run lengths, false first.
        4 => {
            while !r.is_empty() {
                add(r.uleb("a boolean run")?)?;
            }
        }
        kind => {
            // Run-length encoding: a signed header n, then one value repeated n times
            // (n > 0), -n literal values (n < 0), or a count of nulls (n = 0).
            let value = |r: &mut Reader| -> Result<(), BoundsError> {
                match kind {
                    3 => r.sleb("a delta value").map(|_| ()),
                    5 => r.bytes_with_len("a string value").map(|_| ()),
                    _ => r.uleb("an integer value").map(|_| ()),
                }
            };
            while !r.is_empty() {
                let header = r.sleb("a run header")?;
                match header {
                    0 => add(r.uleb("a null run")?)?,
                    n if n > 0 => {
                        value(&mut r)?;
                        add(n.unsigned_abs())?;
                    }
                    n => {
                        // Each literal takes at least one byte, so this loop is bounded by
                        // the data, not by the header.
                        for _ in 0..n.unsigned_abs() {
                            value(&mut r)?;
                            add(1)?;
                        }
                    }
                }
            }
        }
    }
    Ok(rows)
}

/// A cursor over chunk bytes whose every read names what it reads and fails, rather than
/// allocating or panicking, on a length that reaches past the data.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    fn rest(self) -> &'a [u8] {
        self.rest
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], BoundsError> {
        if n > self.rest.len() {
            return Err(malformed(format!(
                "{what} claims {n} bytes but only {} follow",
                self.rest.len()
            )));
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn take_u64(&mut self, n: u64, what: &str) -> Result<&'a [u8], BoundsError> {
        match usize::try_from(n) {
            Ok(n) => self.take(n, what),
            Err(_) => Err(malformed(format!("{what} claims {n} bytes"))),
        }
    }

    /// `count` items of `size` bytes each.
    fn take_n_of(&mut self, count: u64, size: u64, what: &str) -> Result<&'a [u8], BoundsError> {
        let n = count
            .checked_mul(size)
            .ok_or_else(|| malformed(format!("{what} claim {count} entries")))?;
        self.take_u64(n, what)
    }

    fn bytes_with_len(&mut self, what: &str) -> Result<&'a [u8], BoundsError> {
        let n = self.uleb(what)?;
        self.take_u64(n, what)
    }

    fn uleb(&mut self, what: &str) -> Result<u64, BoundsError> {
        leb128::read::unsigned(&mut self.rest)
            .map_err(|_| malformed(format!("{what} is not a valid LEB128 number")))
    }

    fn sleb(&mut self, what: &str) -> Result<i64, BoundsError> {
        leb128::read::signed(&mut self.rest)
            .map_err(|_| malformed(format!("{what} is not a valid LEB128 number")))
    }

    /// A column-specification list: a count, then (specification, data length) pairs. The
    /// data lengths are checked when the data is taken.
    fn column_specs(&mut self, kind: &str) -> Result<Vec<(u32, u64)>, BoundsError> {
        let count = self.uleb(&format!("the {kind} column count"))?;
        let mut specs = Vec::new();
        for _ in 0..count {
            let spec = self.uleb(&format!("a {kind} column specification"))?;
            let spec = u32::try_from(spec)
                .map_err(|_| malformed(format!("a {kind} column specification is out of range")))?;
            let len = self.uleb(&format!("a {kind} column length"))?;
            specs.push((spec, len));
        }
        Ok(specs)
    }
}

#[doc(hidden)]
pub mod bombs;
#[cfg(test)]
mod tests;
