//! Content-addressed files in the data directory: report photos ([`PHOTO_DIR`]) and training
//! images ([`TRAINING_IMAGE_DIR`]), each named by the SHA-256 of its bytes.
//!
//! The folder names live here, with the writer, rather than in reports and training: the
//! photo sweep (reports) clears the temporary files of both folders, and training must not
//! depend on reports for that, nor reports on training.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::util::hash::is_sha256_hex;

/// Folder of report photos in the data directory.
pub const PHOTO_DIR: &str = "photos";

/// Folder of training images in the data directory.
pub const TRAINING_IMAGE_DIR: &str = "training-images";

/// Every folder [`write_blob`] writes to: the ones whose leftover temporary files a sweep
/// clears.
pub const BLOB_DIRS: [&str; 2] = [PHOTO_DIR, TRAINING_IMAGE_DIR];

/// The file `data_dir/folder/sha256`. Refuses anything but a SHA-256 in lowercase hex, naming
/// the `what` it was given as.
pub(crate) fn blob_path(
    data_dir: &Path,
    folder: &str,
    sha256: &str,
    what: &str,
) -> Result<PathBuf> {
    if !is_sha256_hex(sha256) {
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
    // The photo sweep clears leftover temporary files in BLOB_DIRS only.
    if !BLOB_DIRS.contains(&folder) {
        return Err(Error::Internal(format!(
            "blob folder {folder:?} is not one of {BLOB_DIRS:?}"
        )));
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blob_is_written_once_under_its_hash_in_a_known_folder() {
        let dir = tempfile::tempdir().unwrap();
        let sha = crate::util::hash::sha256_hex(b"photo");
        let path = write_blob(dir.path(), PHOTO_DIR, &sha, b"photo").unwrap();
        assert_eq!(path, dir.path().join(PHOTO_DIR).join(&sha));
        assert_eq!(std::fs::read(&path).unwrap(), b"photo");
        // Written again: the file there is kept, no temporary file is left.
        write_blob(dir.path(), PHOTO_DIR, &sha, b"photo").unwrap();
        let names: Vec<_> = std::fs::read_dir(dir.path().join(PHOTO_DIR))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from(&sha)]);
    }

    #[test]
    fn a_name_that_is_not_a_sha256_or_a_folder_the_sweep_does_not_know_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = blob_path(dir.path(), PHOTO_DIR, "../../etc/passwd", "photo").unwrap_err();
        assert!(
            err.to_string().contains("photo id must be a SHA-256"),
            "{err}"
        );
        let sha = crate::util::hash::sha256_hex(b"x");
        let err = write_blob(dir.path(), "elsewhere", &sha, b"x").unwrap_err();
        assert!(err.to_string().contains("\"elsewhere\""), "{err}");
        assert!(!dir.path().join("elsewhere").exists());
    }
}
