//! # waystation-ffi
//!
//! The uniffi layer between the Waystation core and the Kotlin, Swift and Python shells. It
//! holds no logic: each export calls `waystation-core` and passes the core's own records and
//! enums through (they carry uniffi derives behind the core's `uniffi` feature). What differs
//! at the boundary lives here: the objects (one per area, handed out by [`Waystation`]), async
//! on one executor ([`executor`]), and the public [`WaystationError`], converted from the
//! core's error in one place ([`error`]). A panic becomes a foreign exception (the release
//! profile keeps `panic = "unwind"` so uniffi can catch it), never a crash.

mod cases;
mod error;
mod executor;
mod geo;
mod logging;
mod packs;
mod reports;
mod stations;
mod sync;
mod training;

pub use cases::Cases;
pub use error::WaystationError;
pub use geo::*;
pub use logging::{LogLevel, Logger, set_logger};
pub use packs::Packs;
pub use reports::*;
pub use stations::{StationHit, Stations};
pub use sync::*;
pub use training::*;

use std::path::PathBuf;
use std::sync::Arc;

use waystation_core as core;

uniffi::setup_scaffolding!();

type Result<T> = std::result::Result<T, WaystationError>;

/// A publisher key the device trusts for packs.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct TrustedPublisherKey {
    /// The id the publisher signs under.
    pub key_id: String,
    /// Ed25519 public key, standard base64.
    pub public_key: String,
}

/// How to open a [`Waystation`].
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct Options {
    /// Publisher keys whose packs are accepted. Empty means no pack can be imported.
    pub trusted_keys: Vec<TrustedPublisherKey>,
    /// Largest pack accepted, in bytes; none is the default (32 MiB).
    #[uniffi(default = None)]
    pub max_pack_bytes: Option<i64>,
}

impl Options {
    /// The core's options; a key that does not parse or a limit below 1 is `InvalidInput`.
    fn into_core(self) -> Result<core::Options> {
        let trusted_keys = self
            .trusted_keys
            .iter()
            .map(|k| core::packs::TrustedKey::new(&k.key_id, &k.public_key))
            .collect::<core::Result<Vec<_>>>()?;
        let max_pack_bytes = match self.max_pack_bytes {
            None => core::packs::DEFAULT_MAX_PACK_BYTES,
            Some(n) if n >= 1 => usize::try_from(n).unwrap_or(usize::MAX),
            Some(n) => {
                return Err(WaystationError::InvalidInput {
                    reason: format!("max_pack_bytes must be at least 1, got {n}"),
                });
            }
        };
        Ok(core::Options {
            trusted_keys,
            max_pack_bytes,
        })
    }
}

/// The Waystation core over one data directory. Create one per data directory and keep it for
/// the app's lifetime; it is safe to call from any thread. Each area has its object:
/// `stations()`, `packs()`, `reports()`, `cases()`, `training()` and `sync()`, all sharing
/// this one core (they are cheap to get and may be kept).
#[derive(uniffi::Object)]
pub struct Waystation {
    inner: Arc<core::Waystation>,
}

#[uniffi::export]
impl Waystation {
    /// Opens (and creates when missing) the data directory, migrating the database if it was
    /// written by an older version. Fails with `DataDirectory` when the directory cannot be
    /// used and `SchemaTooNew` when a newer app wrote it.
    #[uniffi::constructor]
    pub fn new(data_dir: String, options: Options) -> Result<Arc<Self>> {
        let options = options.into_core()?;
        let inner = core::Waystation::open(&PathBuf::from(data_dir), options)?;
        Ok(Arc::new(Waystation {
            inner: Arc::new(inner),
        }))
    }

    /// The red-station directory: nearest, within a radius, by id, text search.
    pub fn stations(&self) -> Arc<Stations> {
        Stations::new(self.inner.clone())
    }

    /// Signed station and training packs: import, the installed list, fetch from a server.
    pub fn packs(&self) -> Arc<Packs> {
        Packs::new(self.inner.clone())
    }

    /// A rider's reports: drafts, evidence, submission, the outbox, duplicates and export.
    pub fn reports(&self) -> Arc<Reports> {
        Reports::new(self.inner.clone())
    }

    /// The follow-up of submitted reports: the inbox, a case, its events.
    pub fn cases(&self) -> Arc<Cases> {
        Cases::new(self.inner.clone())
    }

    /// Safety training: courses, lessons, search, quizzes and progress.
    pub fn training(&self) -> Arc<Training> {
        Training::new(self.inner.clone())
    }

    /// Sync with a server: run, status, refusals, status subscriptions.
    pub fn sync(&self) -> Arc<SyncClient> {
        SyncClient::new(self.inner.clone())
    }
}

/// The demo publisher's public key, which signs `data/stations/xian-sample.pack.json`.
/// Its secret is public: trust it only in demo and test builds.
#[uniffi::export]
pub fn demo_publisher_key() -> TrustedPublisherKey {
    TrustedPublisherKey {
        key_id: core::packs::DEMO_KEY_ID.to_string(),
        public_key: core::packs::DEMO_PUBLIC_KEY.to_string(),
    }
}

/// Panics inside Rust on purpose, so that binding tests can check a panic reaches Kotlin,
/// Swift or Python as an exception instead of crashing the app. Never call it in an app.
#[uniffi::export]
pub fn diagnostics_force_panic(message: String) -> Result<()> {
    panic!("forced panic for diagnostics: {message}");
}
