//! Content-addressed files in the data directory: report photos (`photos/`) and training
//! images (`training-images/`), each named by the SHA-256 of its bytes.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// The file `data_dir/folder/sha256`. Refuses anything but a SHA-256 in lowercase hex, naming
/// the `what` it was given as.
pub(crate) fn blob_path(
    data_dir: &Path,
    folder: &str,
    sha256: &str,
    what: &str,
) -> Result<PathBuf> {
    if !crate::sync::protocol::is_sha256_hex(sha256) {
        return Err(Error::invalid(format!(
            "{what} id must be a SHA-256 in lowercase hex (64 characters)"
        )));
    }
    Ok(data_dir.join(folder).join(sha256))
}

/// Writes `bytes` as `data_dir/folder/sha256` (the caller has checked that `sha256` is their
/// SHA-256 in lowercase hex), durably and atomically: a temporary file is written, synced and
/// renamed, and the folder synced. A file already there is kept. Returns the path.
pub(crate) fn write_blob(
    data_dir: &Path,
    folder: &str,
    sha256: &str,
    bytes: &[u8],
) -> Result<PathBuf> {
    let path = blob_path(data_dir, folder, sha256, "stored file")?;
    let dir = data_dir.join(folder);
    if path.exists() {
        return Ok(path);
    }
    if !dir.is_dir() {
        std::fs::create_dir_all(&dir)?;
        // Make the new folder's own entry durable too.
        #[cfg(unix)]
        std::fs::File::open(data_dir)?.sync_all()?;
    }
    let mut suffix = [0u8; 8];
    getrandom::fill(&mut suffix)
        .map_err(|e| Error::Internal(format!("no random numbers for a temporary file: {e}")))?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        sha256,
        suffix
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    ));
    let written = (|| -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &path)?;
        // Make the rename itself durable (directories cannot be opened this way on Windows).
        #[cfg(unix)]
        std::fs::File::open(&dir)?.sync_all()?;
        Ok(())
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e.into());
    }
    Ok(path)
}
