//! Signed packs (stations, training) and the lesson images training packs show.

use std::collections::BTreeMap;
use waystation_core::packs::{self, TrustedKey};
use waystation_core::stations::{STATION_PACK_TYPE, StationPack};
use waystation_core::training::LessonImage;
use waystation_core::training::{TRAINING_PACK_TYPE, TrainingPack};
use waystation_core::{Options, Waystation};

use super::Admin;
use crate::auth::rfc3339;
use crate::error::AdminError;
use crate::store::{NewPack, StoreTx};
use crate::training_images;

/// Which pack a device fetches from `GET /v1/packs/{kind}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PackKind {
    /// Red stations.
    Stations,
    /// Safety training courses.
    Training,
}

impl PackKind {
    /// `stations` or `training`, as in the path.
    pub fn as_str(self) -> &'static str {
        match self {
            PackKind::Stations => "stations",
            PackKind::Training => "training",
        }
    }

    /// The DSSE payload type packs of this kind are signed as.
    pub fn payload_type(self) -> &'static str {
        match self {
            PackKind::Stations => STATION_PACK_TYPE,
            PackKind::Training => TRAINING_PACK_TYPE,
        }
    }
}

impl std::str::FromStr for PackKind {
    type Err = String;
    fn from_str(s: &str) -> Result<PackKind, String> {
        match s {
            "stations" => Ok(PackKind::Stations),
            "training" => Ok(PackKind::Training),
            other => Err(format!(
                "unknown pack kind '{}': expected stations or training",
                other.chars().take(40).collect::<String>()
            )),
        }
    }
}

/// What `publish_pack` stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublishedPack {
    /// Stations or training.
    pub kind: PackKind,
    /// The payload's pack id.
    pub pack_id: String,
    /// The payload's version.
    pub version: u64,
    /// The ETag devices see: the payload's SHA-256 in hex (without quotes).
    pub etag: String,
    /// Size of the signed pack file in bytes.
    pub bytes: usize,
    /// False when this exact pack was already the published one.
    pub changed: bool,
}

impl Admin {
    /// Adds a lesson image (JPEG, PNG or WebP, at most
    /// [`waystation_core::training::MAX_TRAINING_IMAGE_BYTES`]) for training packs to reference.
    /// Returns its SHA-256, the reference a lesson uses, and whether it was new.
    pub fn add_training_image(&self, bytes: &[u8]) -> Result<(String, bool), AdminError> {
        let (sha, mime) = training_images::check(bytes)?;
        let tx = self.db.write()?;
        let new = training_images::put(tx.as_ref(), &sha, mime, bytes, &rfc3339(self.now()))?;
        tx.commit()?;
        Ok((sha, new))
    }

    /// Verifies a signed pack exactly as a device would (signature under one of `trusted`,
    /// payload type, header, content) and makes it the pack devices download for its kind.
    /// A training delta pack is refused: the server hands every device one full pack.
    pub fn publish_pack(
        &self,
        kind: PackKind,
        envelope: &[u8],
        trusted: &[TrustedKey],
    ) -> Result<PublishedPack, AdminError> {
        let verified = packs::open(
            envelope,
            kind.payload_type(),
            trusted,
            packs::DEFAULT_MAX_PACK_BYTES,
        )
        .map_err(|e| AdminError::Invalid(e.to_string()))?;
        // (lesson id, image) for every image a training pack's lessons show.
        let mut images: Vec<(String, LessonImage)> = Vec::new();
        let (pack_id, version) = match kind {
            PackKind::Stations => {
                let p = StationPack::from_json(&verified.bytes)
                    .map_err(|e| AdminError::Invalid(e.to_string()))?;
                (p.pack_id, p.version)
            }
            PackKind::Training => {
                let p = TrainingPack::from_json(&verified.bytes)
                    .map_err(|e| AdminError::Invalid(e.to_string()))?;
                if p.is_delta() {
                    return Err(AdminError::Invalid(format!(
                        "pack '{}' is a delta; publish a full training pack (devices that \
                         have no earlier version could not install a delta)",
                        p.pack_id
                    )));
                }
                images = p
                    .courses
                    .iter()
                    .flat_map(|c| &c.lessons)
                    .flat_map(|l| l.images.iter().map(move |i| (l.id.clone(), i.clone())))
                    .collect();
                (p.pack_id, p.version)
            }
        };
        check_installs(kind, envelope, trusted)?;

        let tx = self.db.write()?;
        check_images(tx.as_ref(), &images)?;
        let current = tx
            .pack(kind.as_str())?
            .map(|p| (p.etag, p.pack_id, p.version));
        if let Some((etag, cur_id, cur_version)) = &current {
            if *etag == verified.payload_sha256 {
                return Ok(PublishedPack {
                    kind,
                    pack_id,
                    version,
                    etag: etag.clone(),
                    bytes: envelope.len(),
                    changed: false,
                });
            }
            if *cur_id == pack_id && version <= *cur_version {
                return Err(AdminError::Invalid(format!(
                    "pack '{pack_id}' version {version} is not newer than the published \
                     version {cur_version}; devices would refuse it"
                )));
            }
        }
        tx.put_pack(&NewPack {
            kind: kind.as_str(),
            bytes: envelope,
            etag: &verified.payload_sha256,
            pack_id: &pack_id,
            version,
            published_at: &rfc3339(self.now()),
        })?;
        tx.commit()?;
        Ok(PublishedPack {
            kind,
            pack_id,
            version,
            etag: verified.payload_sha256,
            bytes: envelope.len(),
            changed: true,
        })
    }
}

/// Checks that the server has every image the lessons show, of the media type each lesson
/// declares: devices download them from here, so a pack is refused while one is missing.
fn check_images(tx: &dyn StoreTx, images: &[(String, LessonImage)]) -> Result<(), AdminError> {
    // Each image once, with the lessons that show it.
    let mut by_sha: BTreeMap<&str, Vec<(&str, Option<&str>)>> = BTreeMap::new();
    for (lesson, image) in images {
        by_sha
            .entry(&image.sha256)
            .or_default()
            .push((lesson, image.media_type.as_deref()));
    }
    let mut problems = Vec::new();
    for (sha, shown) in by_sha {
        let lessons = || {
            let names: Vec<String> = shown.iter().map(|(l, _)| format!("'{l}'")).collect();
            names.join(", ")
        };
        match training_images::stored_type(tx, sha)? {
            None => problems.push(format!(
                "image {sha} (lesson {}) is not on the server",
                lessons()
            )),
            Some(stored) => {
                for (lesson, declared) in &shown {
                    if let Some(declared) = declared
                        && *declared != stored
                    {
                        problems.push(format!(
                            "lesson '{lesson}' declares image {sha} as {declared}, but it is \
                             {stored}"
                        ));
                    }
                }
            }
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    let n = problems.len();
    problems.truncate(10);
    Err(AdminError::Invalid(format!(
        "{n} lesson image problem(s): {}; add the images with --image FILE",
        problems.join("; ")
    )))
}

/// Installs the pack on a scratch device: what a real device will do with it, every content
/// rule included, so a pack no device could install is never published.
fn check_installs(
    kind: PackKind,
    envelope: &[u8],
    trusted: &[TrustedKey],
) -> Result<(), AdminError> {
    let scratch = tempfile::tempdir()
        .map_err(|e| AdminError::Other(format!("no scratch directory to check the pack: {e}")))?;
    let device = Waystation::open(
        scratch.path(),
        Options {
            trusted_keys: trusted.to_vec(),
            ..Options::default()
        },
    )
    .map_err(|e| AdminError::Other(format!("scratch device for the pack check: {e}")))?;
    let result = match kind {
        PackKind::Stations => device.packs().import_stations(envelope).map(|_| ()),
        PackKind::Training => device.packs().import_training(envelope).map(|_| ()),
    };
    result.map_err(|e| AdminError::Invalid(format!("a device would refuse this pack: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack_kinds_parse() {
        assert_eq!("stations".parse::<PackKind>(), Ok(PackKind::Stations));
        assert_eq!("training".parse::<PackKind>(), Ok(PackKind::Training));
        assert!("../x".parse::<PackKind>().is_err());
    }
}
