//! # Waystation sync server
//!
//! The server devices sync with: accounts and bearer tokens, the `/v1` sync protocol over
//! Automerge (`docs/sync-protocol.md`), per-document access control with the rules in
//! `waystation_core::sync::policy`, a change feed, content-addressed photos, and signed packs.
//!
//! It keeps nothing about a client in memory between requests but its rate-limit count
//! (`limit`): every fact is in its SQLite database, so several processes can serve one
//! database file. The store is a trait (`store`); SQLite is the embedded default.
//!
//! The HTTP server (and the `waystation-server` command) are behind the default `serve`
//! feature; without it the crate is the store, the access checks and the request decoding,
//! which is what the fuzz target builds.
//!
//! In-process use (tests, `waystation demo`):
//!
//! ```no_run
//! use waystation_server::{Role, spawn_on_thread};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let db = std::path::Path::new("/tmp/server.sqlite3");
//! let token = waystation_server::add_user(db, "rider-1", Role::Rider, &[], chrono::Duration::days(90))?;
//! let server = spawn_on_thread(db, "127.0.0.1:0".parse()?)?;
//! println!("{} with {token}", server.url());
//! server.shutdown();
//! # Ok(()) }
//! ```

pub mod admin;
pub mod auth;
#[cfg(feature = "serve")]
pub mod console;
pub mod db;
pub mod decode;
pub mod documents;
pub mod erasure;
pub mod error;
#[cfg(feature = "serve")]
mod http;
#[cfg(feature = "serve")]
mod idle;
#[cfg(feature = "serve")]
pub mod limit;
pub mod photos;
pub mod quota;
pub mod reach;
#[cfg(feature = "serve")]
mod server;
pub mod store;
pub mod sync;
pub mod training_images;

pub use admin::{
    Admin, PackKind, PublishedPack, UserChange, UserInfo, add_user, issue_token, publish_pack,
    revoke_token,
};
pub use db::{DEFAULT_WRITE_QUEUE, WriteQueue};
pub use decode::{DecodedDoc, DecodedRequest, decode_sync_request};
pub use error::{AdminError, ApiError, ServerError};
pub use quota::{DEFAULT_QUOTAS, Quotas};
#[cfg(feature = "serve")]
pub use server::{
    DEFAULT_BODY_IDLE_TIMEOUT, DEFAULT_PHOTO_SWEEP_EVERY, SHUTDOWN_GRACE, ServerConfig,
    ServerHandle, TlsFiles, serve, spawn_config_on_thread, spawn_on_thread,
};
pub use waystation_core::sync::policy::Role;
