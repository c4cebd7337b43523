//! Fetching a report photo this device lacks from the server: follow-up roles open a case
//! whose report came through sync, and its photos are fetched on demand, not with every sync
//! (a phone on a metered plan pays only for what is looked at). The answer is read with a cap,
//! checked against the SHA-256 it was asked for, and stored like an attached photo.
//!
//! The HTTP conventions (token, retries, capped bodies, clear errors) are sync's
//! (`sync::http`), and so is the record that the server holds the photo (`sync::ledger`), which
//! keeps a later sync from uploading it back.

use std::path::PathBuf;

use crate::cancel::CancelToken;
use crate::error::{Error, Result};
use crate::reports::Reports;
use crate::reports::photo::{self, sweep};
use crate::sync::SyncSettings;
use crate::sync::http::Client;
use crate::sync::ledger::record_photo_on_server;
use crate::sync::transport::HttpTransport;

impl Reports<'_> {
    /// Downloads the photo `sha256` when this device does not have it, checks its SHA-256 and
    /// stores it; returns its path (at once when it is already stored). A photo that arrives
    /// with another hash is refused and not stored. Cancelling `cancel` interrupts the request;
    /// nothing is stored after it.
    pub fn fetch_photo(
        &self,
        settings: &SyncSettings,
        transport: &dyn HttpTransport,
        sha256: &str,
        cancel: &CancelToken,
    ) -> Result<PathBuf> {
        settings.check_server()?;
        let path = photo::photo_path(self.data_dir(), sha256)?;
        if path.is_file() {
            return Ok(path);
        }
        cancel.check()?;
        let bytes = Client::new(settings, transport, cancel).get_photo(sha256)?;
        let got = crate::packs::sha256_hex(&bytes);
        if got != sha256 {
            return Err(Error::Server {
                status: 200,
                message: format!("photo {sha256} arrived with SHA-256 {got}; not stored"),
            });
        }
        cancel.check()?;
        let path = photo::store_bytes(self.data_dir(), sha256, &bytes)?;
        // Dated by the device's clock, which the photo sweep compares with (as an attach
        // does). Best effort: a file left with the system's time is only swept later.
        let _ = sweep::touch(&path, self.now());
        record_photo_on_server(&self.store().write(), sha256, self.now())?;
        Ok(path)
    }
}
