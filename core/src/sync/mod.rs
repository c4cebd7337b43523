//! Sync with a Waystation server: the `/v1` protocol's messages ([`protocol`]), the access
//! rules the server enforces ([`policy`]), and the device's side of a sync.
//!
//! `docs/sync-protocol.md` describes the protocol end to end.

pub mod account;
pub mod bounds;
pub mod client;
mod erasure;
pub mod exchange;
pub mod fetch;
pub mod policy;
pub mod protocol;
mod reply_check;
pub mod settings;
pub mod transport;

pub use client::{
    MAX_REQUESTS_PER_SYNC, RetryPolicy, SyncObserver, SyncRefusal, SyncReport, SyncSettings,
    SyncStatus,
};
pub use fetch::PackFetch;
#[cfg(feature = "http")]
pub use transport::ReqwestTransport;
pub use transport::{HttpRequest, HttpResponse, HttpTransport, TransportError};
