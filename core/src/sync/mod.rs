//! Sync with a Waystation server: the `/v1` protocol's messages ([`protocol`]), the access
//! rules the server enforces ([`policy`]), and the device's side of a sync, reached through
//! [`crate::Waystation::sync`] ([`SyncHandle`]).
//!
//! The device's side, one job per module: `options` and [`settings`] (where and as whom, as
//! callers state it and as checked), [`transport`]
//! and `http` (HTTP with the protocol's conventions), `ledger` (what the device records about
//! the server), `exchange` (one sync's requests and applying the replies), `photos` (the
//! photos a sync uploads), [`status`] (status, refusals, observers), and `handle` (the API).
//!
//! `docs/sync-protocol.md` describes the protocol end to end.

pub(crate) mod account;
mod device;
mod erasure;
mod exchange;
mod handle;
pub(crate) mod http;
pub(crate) mod ledger;
mod options;
mod photos;
pub mod policy;
pub mod protocol;
mod reply_check;
pub(crate) mod settings;
pub(crate) mod status;
pub(crate) mod transport;

/// The Automerge input bounds, in the utilities (the domain checks foreign documents too).
pub use crate::util::bounds;
pub use account::KnownAccount;
pub use exchange::{MAX_REQUESTS_PER_SYNC, REOFFER_INTERVAL, starting_state};
pub use handle::SyncHandle;
pub use http::MAX_SMALL_RESPONSE_BYTES;
pub use options::{MAX_ATTEMPTS, MAX_TIMEOUT_MS, SyncOptions};
pub use photos::MAX_PHOTOS_PER_REQUEST;
pub use settings::{RetryPolicy, SyncSettings};
pub(crate) use status::SyncRuntime;
pub use status::{Subscription, SyncObserver, SyncRefusal, SyncReport, SyncStatus};
#[cfg(feature = "http")]
pub use transport::ReqwestTransport;
pub use transport::{
    DEFAULT_REQUEST_TIMEOUT, HttpHeader, HttpRequest, HttpResponse, HttpTransport, TRANSPORT_GRACE,
    TransportError, wait_for_answer,
};
