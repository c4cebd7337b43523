//! The pack fetch moved to `packs` (`ws.packs().fetch(..)`, issue 12) and the photo fetch to
//! `reports` (`ws.reports().fetch_photo(..)`); [`PackFetch`] is re-exported here until this
//! module goes.

pub use crate::packs::PackFetch;
