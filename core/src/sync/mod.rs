//! Sync with a Waystation server: the `/v1` protocol's messages ([`protocol`]), the access
//! rules the server enforces ([`policy`]), and the device's side of a sync.
//!
//! `docs/sync-protocol.md` describes the protocol end to end.

pub mod policy;
pub mod protocol;
