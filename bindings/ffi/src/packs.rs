//! The `Packs` object (`waystation.packs()`) over the core's handle. Import and fetch are
//! async on the one executor ([`crate::executor`]): verifying a big pack takes a moment.

use std::io::Read;
use std::sync::Arc;

use waystation_core as core;
use waystation_core::packs::{InstalledPack, PackFetch};
use waystation_core::stations::ImportOutcome;
use waystation_core::sync::SyncOptions;
use waystation_core::training::TrainingImport;

use crate::Result;
use crate::error::invalid;
use crate::executor::run_blocking;
use crate::transport::Http;

/// Signed station and training packs on this device.
#[derive(uniffi::Object)]
pub struct Packs {
    pub(crate) ws: Arc<core::Waystation>,
    pub(crate) http: Http,
}

impl Packs {
    /// The file at `path`, refused when it is larger than the packs this device accepts
    /// (read at most one byte past the limit, never the whole of an endless file).
    fn read_pack_file(&self, path: &str) -> Result<Vec<u8>> {
        let max = self.ws.options().max_pack_bytes;
        let unreadable =
            |e: std::io::Error| invalid(format!("cannot read the pack file: {}", e.kind()));
        let mut bytes = Vec::new();
        let file = std::fs::File::open(path).map_err(unreadable)?;
        file.take(max as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(unreadable)?;
        match bytes.len() > max {
            true => Err(invalid(format!(
                "the pack file is larger than the limit of {max} bytes"
            ))),
            false => Ok(bytes),
        }
    }
}

#[uniffi::export]
impl Packs {
    /// Verifies and installs a signed station pack; a refused one changes nothing.
    pub async fn import_stations(&self, pack: Vec<u8>) -> Result<ImportOutcome> {
        let ws = self.ws.clone();
        run_blocking(move |_| ws.packs().import_stations(&pack)).await
    }

    /// Reads a signed station pack file and installs it.
    pub async fn import_stations_file(&self, path: String) -> Result<ImportOutcome> {
        let pack = self.read_pack_file(&path)?;
        self.import_stations(pack).await
    }

    /// Verifies and installs a signed training pack (full, or a delta against the installed).
    pub async fn import_training(&self, pack: Vec<u8>) -> Result<TrainingImport> {
        let ws = self.ws.clone();
        run_blocking(move |_| ws.packs().import_training(&pack)).await
    }

    /// Reads a signed training pack file and installs it.
    pub async fn import_training_file(&self, path: String) -> Result<TrainingImport> {
        let pack = self.read_pack_file(&path)?;
        self.import_training(pack).await
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
