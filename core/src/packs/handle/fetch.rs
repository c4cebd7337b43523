//! Fetching the latest station and training packs from a server, with the lesson images they
//! show ([`Packs::fetch`]). Every answer is read with a cap and checked before it is stored: a
//! pack through the same signature-checked import as a file, an image against its SHA-256.
//!
//! The HTTP conventions (token, retries, capped bodies, clear errors, cancellation) are sync's
//! (`sync::http`), and so is the server's record on the device (`sync::ledger`).

use super::Packs;
use crate::cancel::CancelToken;
use crate::error::{Error, Result};
use crate::packs::{PackFetch, etag, set_etag};
use crate::sync::SyncSettings;
use crate::sync::http::Client;
use crate::sync::ledger::meta_for;
use crate::sync::transport::HttpTransport;
use crate::training::images;

impl Packs<'_> {
    /// Fetches the latest station and training packs from the server when they changed since
    /// the last fetch (conditional requests with the stored ETags) and installs them through
    /// the same signature-checked import as a file; then downloads the lesson images the
    /// device lacks (`GET /v1/training/images/{sha256}`), each checked against its hash and
    /// stored once. Returns what was installed.
    ///
    /// An image that is missing on the server or arrives wrong is skipped and named in
    /// [`PackFetch::training_image_problems`]; the lessons open without it, and the next fetch
    /// asks again. No network, a refused token, `429` or a `5xx` end the fetch with the
    /// error; packs installed before it stay installed. Cancelling `cancel` stops the fetch
    /// before its next request ([`Error::Cancelled`]); what was installed stays installed.
    pub fn fetch(
        &self,
        settings: &SyncSettings,
        transport: &dyn HttpTransport,
        cancel: &CancelToken,
    ) -> Result<PackFetch> {
        settings.check_server()?;
        let ws = self.ws;
        meta_for(&mut ws.store().write(), &settings.server)?;
        let client = Client::new(settings, transport, cancel);
        let mut out = PackFetch::default();
        for kind in ["stations", "training"] {
            cancel.check()?;
            let etag = etag(&ws.store().read(), kind)?;
            let max = ws.options().max_pack_bytes;
            let Some((bytes, new_etag)) = client.get_pack(kind, etag.as_deref(), max)? else {
                continue;
            };
            cancel.check()?;
            match kind {
                // The exact pack installed already (a first fetch, with no ETag stored yet, of
                // the pack the device was shipped with) is not news.
                "stations" => {
                    let outcome = self.import_stations(&bytes)?;
                    out.stations = (!outcome.unchanged).then_some(outcome.version);
                }
                _ => {
                    let outcome = self.import_training(&bytes)?;
                    out.training = (!outcome.unchanged).then_some(outcome.version);
                }
            }
            if let Some(new_etag) = new_etag {
                set_etag(&ws.store().write(), kind, &new_etag)?;
            }
        }
        // The images installed lessons show, every one the device lacks: those of the pack
        // just installed, and those an earlier fetch did not finish.
        for image in ws.training().missing_images()? {
            cancel.check()?;
            let fetched = client
                .get_training_image(&image.sha256)
                .and_then(|bytes| images::store_image(ws.data_dir(), &image, &bytes));
            match fetched {
                Ok(_) => out.training_images_fetched += 1,
                // Offline, signed out, rate limited, cancelled or a failing server: the rest
                // would fail the same way. The packs stay installed; the next fetch asks again.
                Err(e @ (Error::Network(_) | Error::Unauthorized(_) | Error::Cancelled)) => {
                    return Err(e);
                }
                Err(e @ Error::Server { status, .. }) if status == 429 || status >= 500 => {
                    return Err(e);
                }
                Err(e) => out.training_image_problems.push(e.to_string()),
            }
        }
        Ok(out)
    }
}
