//! Files named on the command line, read with a bound.
//!
//! `std::fs::read` reads until the end of the file, growing its buffer as it goes: handed
//! `/dev/zero`, a FIFO that never closes or a 10 GB file by mistake, the command would eat the
//! machine's memory before the core ever got to say the input is too large. Every file the CLI
//! reads whole goes through [`read_bounded`] (the core's) instead, with the limit the core
//! applies to that kind of input, so the refusal comes after at most `max + 1` bytes.

use anyhow::Result;
use std::path::Path;

/// Largest key file (`--trust-key`, `pack sign --key`): a key file is about 200 bytes of JSON.
pub const MAX_KEY_FILE_BYTES: usize = 64 * 1024;

/// Reads `path` whole with the core's [`waystation_core::read_bounded`], refusing it once it
/// is larger than `max` bytes. `what` names the file in messages ("pack", "photo", "key
/// file"), followed by the path as given (lossily when it is not UTF-8); never the content.
pub fn read_bounded(path: &Path, what: &str, max: usize) -> Result<Vec<u8>> {
    let what = format!("{what} {}", path.display());
    Ok(waystation_core::read_bounded(path, &what, max)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endless_file_is_refused_after_the_limit() {
        let err = read_bounded(Path::new("/dev/zero"), "pack", 1000)
            .unwrap_err()
            .to_string();
        assert!(err.contains("larger than the limit of 1000 bytes"), "{err}");
    }

    #[test]
    fn files_within_the_limit_are_read_whole_and_larger_ones_refused_by_size() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, b"12345").unwrap();
        assert_eq!(read_bounded(&p, "pack", 5).unwrap(), b"12345");
        let err = read_bounded(&p, "pack", 4).unwrap_err().to_string();
        assert!(err.contains("larger than the limit of 4 bytes"), "{err}");
        let err = read_bounded(dir.path(), "pack", 4).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("invalid input: cannot read pack /"),
            "{err}"
        );
    }
}
