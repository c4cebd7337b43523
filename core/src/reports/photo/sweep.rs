//! Removing what a crash or a deletion left in the photo folder, when the data directory is
//! opened.
//!
//! Two kinds of leftovers:
//!
//! - **Temporary files** (`.<sha256>.<random>.tmp`, in `photos/` and `training-images/`): a
//!   blob is written to one, synced and renamed ([`crate::store::blobs`]); a crash before the
//!   rename leaves it.
//! - **Photos no document names**: a photo is stored before the draft names it, so a crash in
//!   between, a refused edit, removing a photo from a draft or deleting a draft can leave a
//!   photo that nothing refers to.
//!
//! # The rule
//!
//! A temporary file is removed when it is older than [`GRACE`] (by its modification time,
//! against the device's clock): a write in progress, in this process or another one on the
//! same directory, is younger.
//!
//! A photo is removed only when all of these hold:
//!
//! 1. it is a candidate: an *unnamed marker* (`.<sha256>.<random>.unnamed`) names it, or this is
//!    the one full check of a photo folder written before markers existed (the folder has no
//!    `.swept` file yet). A marker is written before an attach stores the photo and removed
//!    once the draft names it, and written when a photo is removed from a draft or a draft is
//!    deleted. A marker therefore survives exactly the events that can leave a photo unnamed;
//! 2. every marker naming it, and the photo file itself, are older than [`GRACE`]: an attach
//!    that is storing or re-attaching it right now (whose marker is fresh, and which touches
//!    the file) is left alone;
//! 3. no document on the device names its SHA-256 anywhere: not a draft, not a submitted or
//!    withdrawn report, not a report received for follow-up (whose photos were fetched), not a
//!    case or any of its events, not a document of a kind added later. Every string, map key
//!    and text of every stored document is searched, so a new place that names photos is
//!    covered without changing this rule. A document that cannot be read stops the sweep: then
//!    nothing is removed.
//!
//! The last check and the removal happen under an exclusive lock on `photos/.lock`, which an
//! attach holds shared from writing its marker until the draft names the photo; so an attach
//! never races a removal. The sweep never waits for that lock: when an attach holds it, the
//! removal is left to the next open.
//!
//! # Cost
//!
//! Opening reads the photo folder's names (one directory listing) and nothing else unless a
//! marker is older than the grace period. Documents are read only then, once for all
//! candidates, and the markers go with the check: a device with thousands of reports and no
//! leftovers never loads a document at open. [`PhotoSweep::documents_read`] says how many it
//! read. Measured on 3,000 reports (debug build, the `sweep_at_open_…` test with `n = 3000`):
//! 0.07 ms for a sweep with nothing to check; 0.7 s for the one open after a deletion that
//! reads every document.

use automerge::{ScalarValue, hydrate};
use chrono::{DateTime, Duration, Utc};
use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::PHOTO_DIR;
// The folders whose temporary files are swept (both written by `crate::store::blobs`).
use crate::error::{Error, Result};
use crate::store::blobs::BLOB_DIRS;
use crate::store::documents;

/// How old a temporary file, a marker or an unnamed photo must be before it is removed.
/// An attach takes well under a second; an hour leaves room for a slow phone, a second process
/// on the same directory and a clock corrected by the network.
pub const GRACE: Duration = Duration::hours(1);

/// Names the first full check leaves in the photo folder.
const SWEPT: &str = ".swept";
const LOCK: &str = ".lock";
const MARKER_SUFFIX: &str = ".unnamed";
const TEMP_SUFFIX: &str = ".tmp";

/// What one sweep removed and how much it read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PhotoSweep {
    /// Temporary files removed.
    pub temp_files_removed: u32,
    /// Photos removed because no document names them.
    pub photos_removed: u32,
    /// Documents read to find out which photos are named (0 when there was no candidate).
    pub documents_read: u32,
}

fn is_sha(s: &str) -> bool {
    crate::util::hash::is_sha256_hex(s)
}

/// The SHA-256 a marker or temporary file name carries (`.<sha>.<random><suffix>`).
fn named_sha<'a>(name: &'a str, suffix: &str) -> Option<&'a str> {
    let rest = name.strip_prefix('.')?.strip_suffix(suffix)?;
    let (sha, random) = rest.split_once('.')?;
    (is_sha(sha) && !random.is_empty() && random.bytes().all(|b| b.is_ascii_hexdigit()))
        .then_some(sha)
}

fn random_hex() -> Result<String> {
    let mut r = [0u8; 8];
    getrandom::fill(&mut r)
        .map_err(|e| Error::Internal(format!("no random numbers for a marker file: {e}")))?;
    Ok(r.iter().map(|b| format!("{b:02x}")).collect())
}

fn system_time(at: DateTime<Utc>) -> SystemTime {
    SystemTime::from(at)
}

/// Whether a file modified at `mtime` is older than [`GRACE`] at `now`. A time in the future
/// (a clock set back) counts as young.
fn is_old(mtime: SystemTime, now: DateTime<Utc>) -> bool {
    DateTime::<Utc>::from(mtime) + GRACE <= now
}

fn mtime(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Sets a file's modification time to `now` by the device's clock (the clock the sweep
/// compares with).
pub(crate) fn touch(path: &Path, now: DateTime<Utc>) -> Result<()> {
    OpenOptions::new()
        .write(true)
        .open(path)?
        .set_modified(system_time(now))?;
    Ok(())
}

fn lock_file(dir: &Path) -> Result<File> {
    Ok(OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(LOCK))?)
}

fn photo_dir(data_dir: &Path) -> Result<PathBuf> {
    let dir = data_dir.join(PHOTO_DIR);
    if !dir.is_dir() {
        std::fs::create_dir_all(&dir)?;
    }
    Ok(dir)
}

/// Writes an unnamed marker for `sha256`, dated `now`: the photo may be named by no document
/// once the current operation ends. Returns the marker's path.
pub(crate) fn mark_unnamed(data_dir: &Path, sha256: &str, now: DateTime<Utc>) -> Result<PathBuf> {
    let dir = photo_dir(data_dir)?;
    let marker = dir.join(format!(".{sha256}.{}{MARKER_SUFFIX}", random_hex()?));
    File::create(&marker)?.set_modified(system_time(now))?;
    Ok(marker)
}

/// An attach in progress: holds the photo folder's lock shared and the attach's marker.
/// Dropping it without [`Attaching::named`] leaves the marker, so a later sweep checks whether
/// the photo ended up named.
pub(crate) struct Attaching {
    _lock: File,
    marker: PathBuf,
}

impl Attaching {
    /// Starts attaching `sha256`: takes the lock shared, then writes the marker.
    pub(crate) fn begin(data_dir: &Path, sha256: &str, now: DateTime<Utc>) -> Result<Attaching> {
        let lock = lock_file(&photo_dir(data_dir)?)?;
        lock.lock_shared()?;
        let marker = mark_unnamed(data_dir, sha256, now)?;
        Ok(Attaching {
            _lock: lock,
            marker,
        })
    }

    /// The draft names the photo now: the marker goes (best effort: a marker left behind only
    /// costs one check), and the lock is released.
    pub(crate) fn named(self) {
        let _ = std::fs::remove_file(&self.marker);
    }
}

/// One listing of the photo folder.
#[derive(Default)]
struct Listing {
    photos: HashMap<String, PathBuf>,
    markers: HashMap<String, Vec<PathBuf>>,
}

fn list(dir: &Path) -> Result<Listing> {
    let mut l = Listing::default();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if is_sha(name) {
            l.photos.insert(name.to_string(), entry.path());
        } else if let Some(sha) = named_sha(name, MARKER_SUFFIX) {
            l.markers
                .entry(sha.to_string())
                .or_default()
                .push(entry.path());
        }
    }
    Ok(l)
}

/// Removes the temporary files of `dir` older than [`GRACE`].
fn sweep_temp(dir: &Path, now: DateTime<Utc>) -> Result<u32> {
    let mut removed = 0;
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e.into()),
    };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if named_sha(name, TEMP_SUFFIX).is_some()
            && mtime(&entry.path()).is_some_and(|t| is_old(t, now))
            && std::fs::remove_file(entry.path()).is_ok()
        {
            removed += 1;
        }
    }
    Ok(removed)
}

/// Adds to `found` every candidate that `value` names, in a string, a map key or a text.
fn search(value: &hydrate::Value, candidates: &HashSet<String>, found: &mut HashSet<String>) {
    fn check(s: &str, candidates: &HashSet<String>, found: &mut HashSet<String>) {
        for c in candidates {
            if s.contains(c.as_str()) {
                found.insert(c.clone());
            }
        }
    }
    match value {
        hydrate::Value::Scalar(ScalarValue::Str(s)) => check(s, candidates, found),
        hydrate::Value::Scalar(_) => {}
        hydrate::Value::Text(t) => check(&String::from(t), candidates, found),
        hydrate::Value::Map(m) => {
            for (k, v) in m.iter() {
                check(k, candidates, found);
                search(&v.value, candidates, found);
            }
        }
        hydrate::Value::List(l) => {
            for v in l.iter() {
                search(&v.value, candidates, found);
            }
        }
    }
}

/// Which of `candidates` some stored document names, and how many documents were read.
fn named_by_documents(
    conn: &rusqlite::Connection,
    candidates: &HashSet<String>,
) -> Result<(HashSet<String>, u32)> {
    let ids: Vec<String> = conn
        .prepare("SELECT doc_id FROM documents ORDER BY doc_id")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut found = HashSet::new();
    let mut read = 0;
    for id in ids {
        if found.len() == candidates.len() {
            break;
        }
        let Some(doc) = documents::load(conn, &id)? else {
            continue;
        };
        read += 1;
        let root = automerge::ReadDoc::hydrate(&doc, automerge::ROOT, None)
            .map_err(documents::automerge_error)?;
        search(&root, candidates, &mut found);
    }
    Ok((found, read))
}

/// Sweeps the data directory by the rule in the module documentation.
pub(crate) fn run(
    store: &crate::store::Store,
    data_dir: &Path,
    now: DateTime<Utc>,
) -> Result<PhotoSweep> {
    let mut outcome = PhotoSweep::default();
    for folder in BLOB_DIRS {
        outcome.temp_files_removed += sweep_temp(&data_dir.join(folder), now)?;
    }
    let dir = data_dir.join(PHOTO_DIR);
    if !dir.is_dir() {
        return Ok(outcome);
    }
    let full = !dir.join(SWEPT).exists();
    let listing = list(&dir)?;
    let old = |p: &PathBuf| mtime(p).is_some_and(|t| is_old(t, now));
    // A candidate photo: every marker naming it is old, and so is the file.
    let mut candidates = HashSet::new();
    let mut stale_markers = Vec::new();
    let shas: HashSet<&String> = if full {
        listing
            .photos
            .keys()
            .chain(listing.markers.keys())
            .collect()
    } else {
        listing.markers.keys().collect()
    };
    // Whether a photo was too young to check: the full check then is not done yet.
    let mut deferred = false;
    for sha in shas {
        let markers = listing.markers.get(sha).map(Vec::as_slice).unwrap_or(&[]);
        if !markers.iter().all(old) {
            deferred = true;
            continue;
        }
        match listing.photos.get(sha) {
            Some(photo) if old(photo) => {
                candidates.insert(sha.clone());
            }
            Some(_) => deferred = true,
            // A marker for a photo that is gone has nothing left to check.
            None => stale_markers.extend(markers.iter().cloned()),
        }
    }
    let named = if candidates.is_empty() {
        HashSet::new()
    } else {
        let (named, read) = named_by_documents(&store.read(), &candidates)?;
        outcome.documents_read = read;
        named
    };
    for sha in &named {
        stale_markers.extend(listing.markers.get(sha).into_iter().flatten().cloned());
    }
    let unnamed: Vec<&String> = candidates.difference(&named).collect();
    // An attach holds the lock shared for a moment; rather than make opening wait for it,
    // this sweep then leaves the removal to the next one.
    let lock = if unnamed.is_empty() {
        None
    } else {
        let lock = lock_file(&dir)?;
        match lock.try_lock() {
            Ok(()) => Some(lock),
            Err(std::fs::TryLockError::WouldBlock) => {
                deferred = true;
                None
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(e.into()),
        }
    };
    if lock.is_some() {
        // Under the lock, look again: an attach that began after the listing has a fresh
        // marker, and one that finished has touched the file.
        let again = list(&dir)?;
        for sha in unnamed {
            let markers = again.markers.get(sha).map(Vec::as_slice).unwrap_or(&[]);
            let Some(photo) = again.photos.get(sha) else {
                continue;
            };
            if !markers.iter().all(old) || !old(photo) {
                continue;
            }
            std::fs::remove_file(photo)?;
            outcome.photos_removed += 1;
            stale_markers.extend(markers.iter().cloned());
        }
    }
    for marker in stale_markers {
        let _ = std::fs::remove_file(marker);
    }
    if full && !deferred {
        File::create(dir.join(SWEPT))?;
    }
    Ok(outcome)
}
