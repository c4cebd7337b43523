//! What a device fetches from its server besides the sync exchange: a report photo it lacks
//! (follow-up roles, on demand), and the latest station and training packs with the lesson
//! images they show. Every answer is read with a cap and checked before it is stored: a photo
//! and an image against their SHA-256, a pack through the same signature-checked import as a
//! file.

use rusqlite::{OptionalExtension, params};

use super::client::{meta_for, record_photo_on_server};
use super::exchange::Client;
use super::settings::SyncSettings;
use super::transport::HttpTransport;
use crate::error::{Error, Result};

/// What [`crate::Waystation::fetch_packs`] installed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PackFetch {
    /// The station pack version now installed, when a new one was fetched and installed
    /// (`None` when the server's pack is the one installed already).
    pub stations: Option<u64>,
    /// The training pack version now installed, when a new one was fetched and installed.
    pub training: Option<u64>,
    /// Lesson images downloaded and stored.
    pub training_images_fetched: u32,
    /// Why each lesson image still missing after this fetch could not be stored, one per
    /// image: not on the server, wrong hash, too large, not an image, or not of the media
    /// type its lesson declares. The next fetch asks for them again.
    pub training_image_problems: Vec<String>,
}

impl crate::Waystation {
    /// Downloads a report photo the device does not have (follow-up roles fetch photos on
    /// demand), checks its SHA-256 and stores it. Returns its path.
    pub fn fetch_report_photo(
        &self,
        settings: &SyncSettings,
        transport: &dyn HttpTransport,
        sha256: &str,
    ) -> Result<std::path::PathBuf> {
        settings.check_server()?;
        let path = crate::reports::photo::photo_path(self.data_dir(), sha256)?;
        if path.is_file() {
            return Ok(path);
        }
        let client = Client {
            settings,
            transport,
        };
        let bytes = client.get_photo(sha256)?;
        let got = crate::packs::sha256_hex(&bytes);
        if got != sha256 {
            return Err(Error::Server {
                status: 200,
                message: format!("photo {sha256} arrived with SHA-256 {got}; not stored"),
            });
        }
        let path = crate::reports::photo::store_bytes(self.data_dir(), sha256, &bytes)?;
        // Dated by the device's clock, which the photo sweep compares with (as an attach
        // does). Best effort: a file left with the system's time is only swept later.
        let _ = crate::reports::photo::sweep::touch(&path, self.now());
        record_photo_on_server(&self.store().write(), sha256, self.now())?;
        Ok(path)
    }

    /// Fetches the latest station and training packs from the server when they changed since
    /// the last fetch (conditional requests with the stored ETags) and installs them through
    /// the same signature-checked import as a file; then downloads the lesson images the
    /// device lacks (`GET /v1/training/images/{sha256}`), each checked against its hash and
    /// stored once. Returns what was installed.
    ///
    /// An image that is missing on the server or arrives wrong is skipped and named in
    /// [`PackFetch::training_image_problems`]; the lessons open without it, and the next fetch
    /// asks again. No network, a refused token, `429` or a `5xx` end the fetch with the
    /// error; packs installed before it stay installed.
    pub fn fetch_packs(
        &self,
        settings: &SyncSettings,
        transport: &dyn HttpTransport,
    ) -> Result<PackFetch> {
        settings.check_server()?;
        meta_for(&mut self.store().write(), &settings.server)?;
        let client = Client {
            settings,
            transport,
        };
        let mut out = PackFetch::default();
        for kind in ["stations", "training"] {
            let etag: Option<String> = self
                .store()
                .read()
                .query_row("SELECT etag FROM pack_etags WHERE kind = ?1", [kind], |r| {
                    r.get(0)
                })
                .optional()?;
            let max = self.config().max_pack_bytes;
            let Some((bytes, new_etag)) = client.get_pack(kind, etag.as_deref(), max)? else {
                continue;
            };
            match kind {
                // The exact pack installed already (a first fetch, with no ETag stored yet, of
                // the pack the device was shipped with) is not news.
                "stations" => {
                    let outcome = self.import_station_pack(&bytes)?;
                    out.stations = (!outcome.unchanged).then_some(outcome.version);
                }
                _ => {
                    let outcome = self.import_training_pack(&bytes)?;
                    out.training = (!outcome.unchanged).then_some(outcome.version);
                }
            }
            if let Some(etag) = new_etag {
                self.store().write().execute(
                    "INSERT OR REPLACE INTO pack_etags (kind, etag) VALUES (?1, ?2)",
                    params![kind, etag],
                )?;
            }
        }
        // The images installed lessons show, every one the device lacks: those of the pack
        // just installed, and those an earlier fetch did not finish.
        for image in self.missing_training_images()? {
            let fetched = client
                .get_training_image(&image.sha256)
                .and_then(|bytes| self.store_training_image(&image, &bytes));
            match fetched {
                Ok(_) => out.training_images_fetched += 1,
                // Offline, signed out, rate limited or a failing server: the rest would fail
                // the same way. The packs stay installed; the next fetch asks again.
                Err(e @ (Error::Network(_) | Error::Unauthorized(_))) => return Err(e),
                Err(e @ Error::Server { status, .. }) if status == 429 || status >= 500 => {
                    return Err(e);
                }
                Err(e) => out.training_image_problems.push(e.to_string()),
            }
        }
        Ok(out)
    }
}
