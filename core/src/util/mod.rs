//! Utilities: the bottom layer, beside [`crate::error`], [`crate::clock`] (time) and
//! [`crate::cancel`]. Small pure functions that the store, the domain and sync all need, kept
//! here so that none of them has to reach sideways or upwards for them (the layering test,
//! `core/tests/layering.rs`, keeps it so). Nothing here uses any other module of the crate
//! except the error type.

pub mod bounds;
pub mod files;
pub mod hash;
pub mod image;
