//! Files read whole, with a bound.
//!
//! `std::fs::read` reads until the end of the file, growing its buffer as it goes: handed
//! `/dev/zero`, a FIFO that never closes or a 10 GB file by mistake, it would eat the phone's
//! or the machine's memory before anything could say the input is too large. Every file the
//! core, the FFI and the CLI read whole goes through [`read_bounded`] instead, so the refusal
//! comes after at most `max + 1` bytes.

use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};

/// Reads `path` whole, refusing it once it is larger than `max` bytes (`InvalidInput`). `what`
/// names the file in messages ("the pack file"); the path is not shown (it can carry a user's
/// name; the CLI puts it in `what`), nor is the content.
pub fn read_bounded(path: &Path, what: &str, max: usize) -> Result<Vec<u8>> {
    let unreadable = |e: std::io::Error| Error::invalid(format!("cannot read {what}: {e}"));
    let file = std::fs::File::open(path).map_err(unreadable)?;
    let too_big = || Error::invalid(format!("{what} is larger than the limit of {max} bytes"));
    // A regular file says its size: refuse it before reading anything.
    if let Ok(meta) = file.metadata()
        && meta.is_file()
        && meta.len() > max as u64
    {
        return Err(too_big());
    }
    let mut bytes = Vec::new();
    // `take` stops at max + 1 whatever the file is (a device, a pipe, a file still growing).
    (file.take(max as u64 + 1))
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if bytes.len() > max {
        return Err(too_big());
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(path: &Path, max: usize) -> String {
        match read_bounded(path, "the pack file", max) {
            Err(Error::InvalidInput(reason)) => reason,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_endless_file_is_refused_after_the_limit() {
        let reason = refusal(Path::new("/dev/zero"), 1000);
        assert_eq!(
            reason,
            "the pack file is larger than the limit of 1000 bytes"
        );
    }

    #[test]
    fn files_within_the_limit_are_read_whole_and_others_refused_without_their_path() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("zhang-san.pack.json");
        std::fs::write(&p, b"12345").unwrap();
        assert_eq!(read_bounded(&p, "the pack file", 5).unwrap(), b"12345");
        assert!(refusal(&p, 4).contains("larger than the limit of 4 bytes"));
        let reason = refusal(dir.path(), 4);
        assert!(reason.starts_with("cannot read the pack file"), "{reason}");
        let reason = refusal(&dir.path().join("missing"), 4);
        assert!(reason.starts_with("cannot read the pack file"), "{reason}");
        assert!(
            !reason.contains("zhang") && !reason.contains("missing"),
            "{reason}"
        );
    }
}
