//! The one executor behind every async export: [`run_blocking`] runs the blocking core call
//! on the `blocking` crate's shared pool (no thread per call), so no foreign caller's thread
//! blocks. When the foreign coroutine or task is cancelled, uniffi drops the future, its
//! [`CancelOnDrop`] guard cancels the [`CancelToken`], and the core stops at its next safe
//! point, releasing its locks.

use std::panic::{AssertUnwindSafe, catch_unwind};

use waystation_core::{CancelOnDrop, CancelToken};

use crate::{Result, WaystationError};

/// Runs `f` on the shared pool with a fresh [`CancelToken`] that is cancelled if the returned
/// future is dropped before it completes; a call cancelled before it starts never starts. A
/// panic in `f` becomes `Internal`, never a crash.
pub(crate) async fn run_blocking<T, F>(f: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce(&CancelToken) -> waystation_core::Result<T> + Send + 'static,
{
    let token = CancelToken::new();
    let guard: CancelOnDrop = token.cancel_on_drop();
    let panicked = || waystation_core::Error::Internal("a background call panicked".into());
    let result = blocking::unblock(move || {
        let call = || token.check().and_then(|()| f(&token));
        catch_unwind(AssertUnwindSafe(call)).unwrap_or_else(|_| Err(panicked()))
    })
    .await;
    guard.disarm();
    result.map_err(WaystationError::from)
}
