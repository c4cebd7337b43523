//! What the `uniffi` feature adds: the core's own uniffi component (namespace
//! `waystation_core`), and the bridge for time.
//!
//! The core's plain types (records and enums such as `Station` or `CaseStatus`) carry
//! `#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]` where they are defined, so the FFI
//! crate passes them through instead of mirroring them (decision 0010). Objects, async
//! functions and the error enum stay in `waystation-ffi`: they are what differs at the
//! boundary.
//!
//! Kotlin sees these types in the package `org.waystation.core`, Swift in the module
//! `Waystation`, Python in `waystation` (core/uniffi.toml).

/// A UTC instant as the core stores it. Crosses the FFI as a timestamp: `java.time.Instant`
/// in Kotlin, `Date` in Swift, `datetime` in Python.
pub type Timestamp = chrono::DateTime<chrono::Utc>;

uniffi::custom_type!(Timestamp, std::time::SystemTime, { remote });
