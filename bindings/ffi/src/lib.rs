//! # waystation-ffi
//!
//! The uniffi layer over `waystation-core`, without logic: the core's records and enums pass
//! through (they carry uniffi derives). Only what differs at the boundary is here: the
//! objects, async on one [`executor`], and [`WaystationError`] ([`error`]). A panic becomes a
//! foreign exception (release keeps `panic = "unwind"`), never a crash.

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
mod transport;

pub use cases::Cases;
pub use error::WaystationError;
pub use geo::*;
pub use logging::{LogLevel, Logger, set_logger};
pub use packs::Packs;
pub use reports::*;
pub use stations::{StationHit, Stations};
pub use sync::*;
pub use training::*;
pub use transport::{HttpResponse, HttpTransport, HttpTransportError};

use std::path::PathBuf;
use std::sync::Arc;

use waystation_core as core;

uniffi::setup_scaffolding!();

type Result<T> = std::result::Result<T, WaystationError>;

/// A publisher key the device trusts for packs: the id it signs under and its Ed25519 public
/// key in standard base64. (The core's `TrustedKey` holds the parsed key.)
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct TrustedPublisherKey {
    pub key_id: String,
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
        let keys = self.trusted_keys.iter();
        let trusted_keys = keys
            .map(|k| core::packs::TrustedKey::new(&k.key_id, &k.public_key))
            .collect::<core::Result<Vec<_>>>()?;
        let below_1 = |n| error::invalid(format!("max_pack_bytes must be at least 1, got {n}"));
        let max_pack_bytes = match self.max_pack_bytes {
            None => core::packs::DEFAULT_MAX_PACK_BYTES,
            Some(n @ 1..) => usize::try_from(n).unwrap_or(usize::MAX),
            Some(n) => return Err(below_1(n)),
        };
        Ok(core::Options {
            trusted_keys,
            max_pack_bytes,
        })
    }
}

/// The Waystation core over one data directory: keep one for the app's lifetime, call it
/// from any thread. Each area's object (cheap, may be kept) shares this one core.
#[derive(uniffi::Object)]
pub struct Waystation {
    ws: Arc<core::Waystation>,
    /// The transport of every sync, pack fetch and photo fetch.
    http: transport::Http,
}

impl Waystation {
    /// One area's object over the shared core.
    fn area<T>(&self, new: fn(Arc<core::Waystation>) -> T) -> Arc<T> {
        Arc::new(new(self.ws.clone()))
    }

    /// One area's object that also talks to the server.
    fn net_area<T>(&self, new: fn(Arc<core::Waystation>, transport::Http) -> T) -> Arc<T> {
        Arc::new(new(self.ws.clone(), self.http.clone()))
    }
}

#[uniffi::export]
impl Waystation {
    /// Opens (creating, migrating) the data directory; `DataDirectory` when it cannot be
    /// used, `SchemaTooNew` when a newer app wrote it. Sync, pack fetch and photo fetch go
    /// through `transport`, the app's HTTP stack (`OkHttpTransport`, `URLSessionTransport`);
    /// none is the built-in one, which phone builds of the library leave out.
    #[uniffi::constructor(default(transport = None))]
    pub fn new(
        data_dir: String,
        options: Options,
        transport: Option<Arc<dyn HttpTransport>>,
    ) -> Result<Arc<Self>> {
        let options = options.into_core()?;
        let ws = Arc::new(core::Waystation::open(&PathBuf::from(data_dir), options)?);
        let http = transport::Http::new(transport);
        Ok(Arc::new(Waystation { ws, http }))
    }

    /// The red-station directory: nearest, within a radius, by id, text search.
    pub fn stations(&self) -> Arc<Stations> {
        self.area(|ws| Stations { ws })
    }

    /// Signed station and training packs.
    pub fn packs(&self) -> Arc<Packs> {
        self.net_area(|ws, http| Packs { ws, http })
    }

    /// A rider's reports, from draft to outbox.
    pub fn reports(&self) -> Arc<Reports> {
        self.net_area(|ws, http| Reports { ws, http })
    }

    /// The follow-up of submitted reports.
    pub fn cases(&self) -> Arc<Cases> {
        self.area(|ws| Cases { ws })
    }

    /// Safety training.
    pub fn training(&self) -> Arc<Training> {
        self.area(|ws| Training { ws })
    }

    /// Sync with a server.
    pub fn sync(&self) -> Arc<SyncClient> {
        self.net_area(|ws, http| SyncClient { ws, http })
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

/// Panics on purpose, for binding tests that a panic is an exception. Never call it in an app.
#[uniffi::export]
pub fn diagnostics_force_panic(message: String) -> Result<()> {
    panic!("forced panic for diagnostics: {message}");
}
