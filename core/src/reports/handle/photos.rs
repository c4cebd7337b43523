//! Photos on the [`Reports`] handle: attach, remove, find, and the sweep of files no document
//! names. Stripping and storage are in [`crate::reports::photo`], the sweep's rule in
//! [`crate::reports::photo::sweep`].

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::reports::model::require_draft;
use crate::reports::photo::sweep::{self, PhotoSweep, run};
use crate::reports::photo::{ReportPhoto, photo_path, store, strip};
use crate::reports::{Report, ReportId, ReportRules, Reports, document};

impl crate::Waystation {
    pub(crate) fn data_dir(&self) -> &Path {
        self.store()
            .path()
            .parent()
            .unwrap_or_else(|| Path::new("."))
    }

    /// Records that the photos `shas` may be named by no document any more (a photo removed
    /// from a draft, a draft deleted), so that a later sweep checks them. Best effort: the edit
    /// is already durable, and a photo left unchecked only takes space.
    pub(crate) fn photos_maybe_unnamed<'a>(&self, shas: impl IntoIterator<Item = &'a str>) {
        for sha in shas {
            let _ = sweep::mark_unnamed(self.data_dir(), sha, self.now());
        }
    }
}

impl Reports<'_> {
    /// Attaches a photo (JPEG, PNG or WebP bytes as the camera wrote them) to a draft. All
    /// metadata (EXIF with GPS, XMP, comments, thumbnails), wherever it stands in the file, is
    /// stripped first; only the EXIF orientation is kept, alone, so that a portrait photo stays
    /// upright. The result is stored once under its SHA-256, and attaching the same photo
    /// again changes nothing. Photos over
    /// `rules.max_photo_bytes`, beyond `rules.max_photos`, or that are not complete images are
    /// refused and the draft is left as it was.
    pub fn attach_photo(&self, id: &str, bytes: &[u8], rules: &ReportRules) -> Result<ReportPhoto> {
        rules.check()?;
        let id = ReportId::parse(id)?;
        if i64::try_from(bytes.len()).unwrap_or(i64::MAX) > rules.max_photo_bytes {
            return Err(Error::invalid(format!(
                "photo is {} bytes; at most {} bytes are allowed per photo",
                bytes.len(),
                rules.max_photo_bytes
            )));
        }
        let report = self.get(id.as_str())?;
        require_draft(&report, "edited")?;
        let stripped = strip(bytes)?;
        let info = stripped.info.clone();
        let room = |r: &Report| -> Result<()> {
            if !r.photos.iter().any(|p| p.sha256 == info.sha256)
                && i64::try_from(r.photos.len()).unwrap_or(i64::MAX) >= i64::from(rules.max_photos)
            {
                return Err(Error::invalid(format!(
                    "report '{id}' already has {} photos; at most {} are allowed",
                    r.photos.len(),
                    rules.max_photos
                )));
            }
            Ok(())
        };
        room(&report)?;
        let now = self.now();
        // The marker stays if anything below fails or the process dies: the photo may then be
        // named by no draft, and the next sweep checks it (`sweep`'s rule).
        let attaching = sweep::Attaching::begin(self.data_dir(), &info.sha256, now)?;
        let path = store(self.data_dir(), &stripped)?;
        // A stored file is as young as its last attach, so no sweep takes it meanwhile.
        sweep::touch(&path, now)?;
        self.edit(&id, |doc, report| {
            require_draft(report, "edited")?;
            room(report)?;
            document::put_photo(doc, &info, now)
        })?;
        attaching.named();
        Ok(info)
    }

    /// Detaches a photo from a draft, durably. The stored file stays for now (another report
    /// may use it); a later sweep removes it if no document names it ([`sweep`]). Refused when
    /// the draft has no such photo.
    pub fn remove_photo(&self, id: &str, sha256: &str) -> Result<Report> {
        let id = ReportId::parse(id)?;
        photo_path(self.data_dir(), sha256)?;
        self.edit(&id, |doc, report| {
            require_draft(report, "edited")?;
            if document::remove_photo(doc, sha256)? {
                Ok(())
            } else {
                Err(Error::NotFound(format!(
                    "report '{id}' has no photo {sha256}"
                )))
            }
        })?;
        self.ws.photos_maybe_unnamed([sha256]);
        self.get(id.as_str())
    }

    /// The file holding a stored photo (metadata already stripped).
    pub fn photo_path(&self, sha256: &str) -> Result<PathBuf> {
        let path = photo_path(self.data_dir(), sha256)?;
        if !path.is_file() {
            return Err(Error::NotFound(format!("no stored photo {sha256}")));
        }
        Ok(path)
    }
}

impl Reports<'_> {
    /// Removes temporary files a crash left in the data directory and photos that no document
    /// on the device names any more, by the rule of [`crate::reports::photo::sweep`]. Runs when
    /// the data directory is opened; cheap when there is nothing to remove.
    pub fn sweep_photos(&self) -> Result<PhotoSweep> {
        run(self.store(), self.data_dir(), self.now())
    }
}
