//! The one executor behind every async export.
//!
//! The core is blocking code (SQLite, Automerge, the HTTP transport). An async export hands its
//! core call to [`run_blocking`], which runs it on the `blocking` crate's shared thread pool
//! (threads are reused and idle ones exit; no thread per call) and completes the foreign future
//! from there. So a Kotlin `suspend` function, a Swift `async` one or a Python coroutine never
//! blocks its caller's thread, under any dispatcher or executor.
//!
//! Cancellation: the future owns a [`CancelOnDrop`] guard. When Kotlin cancels the coroutine
//! (or Swift the task, or Python the coroutine), uniffi drops the future, the guard cancels the
//! [`CancelToken`] the core call was given, and the core stops at its next safe point,
//! releasing its locks (an HTTP request in flight is interrupted through
//! [`CancelToken::on_cancel`]). The call's result is then discarded.

use std::panic::{AssertUnwindSafe, catch_unwind};

use waystation_core::{CancelOnDrop, CancelToken};

use crate::{Result, WaystationError};

/// Runs `f` on the shared pool with a fresh [`CancelToken`] that is cancelled if the returned
/// future is dropped before it completes. A panic in `f` becomes `Internal`, never a crash.
#[allow(dead_code)] // until the async exports move onto it (issue 12, in progress)
pub(crate) async fn run_blocking<T, F>(f: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce(&CancelToken) -> waystation_core::Result<T> + Send + 'static,
{
    let token = CancelToken::new();
    let guard: CancelOnDrop = token.cancel_on_drop();
    let result = blocking::unblock(move || {
        catch_unwind(AssertUnwindSafe(|| f(&token))).unwrap_or_else(|_| {
            Err(waystation_core::Error::Internal(
                "a background call panicked".into(),
            ))
        })
    })
    .await;
    guard.disarm();
    result.map_err(WaystationError::from)
}
