//! [`Packs`], the handle a [`Waystation`] hands out for signed packs (`ws.packs()`): import of
//! station and training packs, what is installed, and fetching the latest from a server
//! (`handle/fetch.rs`, which uses sync's HTTP client: a handle is the facade, above sync).
//!
//! Every pack goes through the same door: signature and size checked against the
//! [`crate::Options`] the device was opened with, installed in one transaction, and the
//! station index rebuilt after a station pack changed.

mod fetch;

use std::path::Path;

use super::{InstalledPack, installed_packs};
use crate::Waystation;
use crate::error::Result;
use crate::stations::{self, ImportOutcome};
use crate::training::{self, TrainingImport};
use crate::util::files::read_bounded;

/// Signed packs on this device. Get one with [`Waystation::packs`].
#[derive(Clone, Copy, Debug)]
pub struct Packs<'a> {
    pub(super) ws: &'a Waystation,
}

impl<'a> Packs<'a> {
    /// The packs of `ws`.
    pub(crate) fn new(ws: &'a Waystation) -> Packs<'a> {
        Packs { ws }
    }

    /// Verifies and installs a signed station pack (the bytes of a `.pack.json` file).
    /// A refused pack changes nothing; the previous pack stays fully usable. Importing the
    /// installed pack again is a no-op (`unchanged`).
    pub fn import_stations(&self, envelope: &[u8]) -> Result<ImportOutcome> {
        let options = self.ws.options();
        let outcome = stations::import_pack(
            &mut self.ws.store().write(),
            envelope,
            &options.trusted_keys,
            options.max_pack_bytes,
            self.ws.now(),
        )?;
        if !outcome.unchanged {
            self.ws.rebuild_station_index()?;
        }
        Ok(outcome)
    }

    /// Reads a signed station pack file, refused past the device's pack size limit without
    /// reading the rest, and installs it ([`Self::import_stations`]).
    pub fn import_stations_file(&self, path: &Path) -> Result<ImportOutcome> {
        self.import_stations(&self.read_pack_file(path)?)
    }

    /// Reads a signed training pack file like [`Self::import_stations_file`] and installs it
    /// ([`Self::import_training`]).
    pub fn import_training_file(&self, path: &Path) -> Result<TrainingImport> {
        self.import_training(&self.read_pack_file(path)?)
    }

    fn read_pack_file(&self, path: &Path) -> Result<Vec<u8>> {
        read_bounded(path, "the pack file", self.ws.options().max_pack_bytes)
    }

    /// Verifies and installs a signed training pack: a full pack, or a delta against exactly
    /// the installed version. A refused pack leaves the installed content as it was.
    pub fn import_training(&self, envelope: &[u8]) -> Result<TrainingImport> {
        let options = self.ws.options();
        training::import_pack(
            &mut self.ws.store().write(),
            envelope,
            &options.trusted_keys,
            options.max_pack_bytes,
            self.ws.now(),
        )
    }

    /// Every installed pack (stations and training), by pack id.
    pub fn installed(&self) -> Result<Vec<InstalledPack>> {
        installed_packs(&self.ws.store().read())
    }
}
