//! The `Packs` object (`waystation.packs()`) over the core's handle. Import and fetch are
//! async on the one executor ([`crate::executor`]): verifying a big pack takes a moment.

use std::path::Path;
use std::sync::Arc;

use waystation_core as core;
use waystation_core::packs::{InstalledPack, PackFetch};
use waystation_core::stations::ImportOutcome;
use waystation_core::sync::SyncOptions;
use waystation_core::training::TrainingImport;

use crate::Result;
use crate::executor::run_blocking;
use crate::transport::Http;

/// Signed station and training packs on this device.
#[derive(uniffi::Object)]
pub struct Packs {
    pub(crate) ws: Arc<core::Waystation>,
    pub(crate) http: Http,
}

#[uniffi::export]
impl Packs {
    /// Verifies and installs a signed station pack; a refused one changes nothing.
    pub async fn import_stations(&self, pack: Vec<u8>) -> Result<ImportOutcome> {
        let ws = self.ws.clone();
        run_blocking(move |_| ws.packs().import_stations(&pack)).await
    }

    /// Reads a signed station pack file (refused past the pack size limit without reading
    /// the rest) and installs it.
    pub async fn import_stations_file(&self, path: String) -> Result<ImportOutcome> {
        let ws = self.ws.clone();
        run_blocking(move |_| ws.packs().import_stations_file(Path::new(&path))).await
    }

    /// Verifies and installs a signed training pack (full, or a delta against the installed).
    pub async fn import_training(&self, pack: Vec<u8>) -> Result<TrainingImport> {
        let ws = self.ws.clone();
        run_blocking(move |_| ws.packs().import_training(&pack)).await
    }

    /// Reads a signed training pack file (refused past the pack size limit without reading
    /// the rest) and installs it.
    pub async fn import_training_file(&self, path: String) -> Result<TrainingImport> {
        let ws = self.ws.clone();
        run_blocking(move |_| ws.packs().import_training_file(Path::new(&path))).await
    }

    /// Every installed pack (stations and training).
    pub fn installed(&self) -> Result<Vec<InstalledPack>> {
        Ok(self.ws.packs().installed()?)
    }

    /// Fetches and installs the server's station and training packs when they changed, and
    /// the lesson images the device lacks. A cancelled fetch keeps what it installed.
    pub async fn fetch(&self, options: SyncOptions) -> Result<PackFetch> {
        let (settings, transport) = self.http.connect(&options)?;
        let ws = self.ws.clone();
        run_blocking(move |cancel| ws.packs().fetch(&settings, &*transport, cancel)).await
    }
}
