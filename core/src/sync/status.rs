//! What a sync leaves for the user: the sync status, the refused documents and their
//! dismissal, what one sync did, and the observers told about status changes.
//!
//! Observers subscribe ([`super::SyncHandle::subscribe`]) and get a [`Subscription`]; several
//! may listen at once (a status bar, a screen, a background job), and each stops listening when
//! its subscription is closed or dropped. A Kotlin `Flow` and a Swift `AsyncStream` are built
//! on this in `bindings/kotlin` and `bindings/swift`.

use chrono::{DateTime, Utc};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use super::device::Device;
use super::ledger::{self, parse_time, pending_docs};
use super::photos::photos_to_upload;
use crate::error::{Error, Result};
use crate::reports::document::REPORT_KIND;
use crate::store::documents;

/// What the device knows about syncing, for a status screen.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct SyncStatus {
    /// The server last synced with (or tried).
    pub server: Option<String>,
    /// A sync is running now.
    pub in_progress: bool,
    /// Documents with changes the server does not have yet and that the next sync sends
    /// (submitted reports, cases, progress; never drafts). Refused ones are counted in
    /// `refused_documents` instead.
    pub pending_documents: i64,
    /// Photos of pending reports not uploaded yet.
    pub pending_photos: i64,
    /// Documents the server refused at their current state (see [`SyncRefusal`]).
    pub refused_documents: i64,
    /// When the last sync started.
    pub last_attempt: Option<DateTime<Utc>>,
    /// When a sync last finished without error.
    pub last_success: Option<DateTime<Utc>>,
    /// Why the last sync failed; `None` after a success. A cancelled sync leaves it as it was.
    pub last_error: Option<String>,
    /// When this device last offered the server everything it writes again, because the
    /// server said it had lost data (restored from a backup).
    pub last_reoffer: Option<DateTime<Utc>>,
    /// When the server last said so again within 24 hours of the previous re-offer, and this
    /// device did not send everything again (it will once the interval has passed, if the
    /// server still says so). `None` when the server has not asked since.
    pub reoffer_held_back: Option<DateTime<Utc>>,
}

/// A document the server refused. Nothing is dropped: the device keeps it, dirty.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct SyncRefusal {
    /// Document id (`report:…`, `case:…`, `progress:…`).
    pub doc_id: String,
    /// The server's reason.
    pub reason: String,
    /// When it was refused.
    pub at: DateTime<Utc>,
}

/// What one sync did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct SyncReport {
    /// `POST /v1/sync` requests made (retries not counted).
    pub requests: i32,
    /// Photo uploads made.
    pub photos_uploaded: i32,
    /// Request bytes sent (bodies, retries included).
    pub bytes_sent: i64,
    /// Response bytes received (bodies).
    pub bytes_received: i64,
    /// Documents whose changes the server accepted in this sync.
    pub documents_sent: i32,
    /// Documents that got new changes from the server.
    pub documents_received: i32,
    /// Documents refused in this sync.
    pub refused: Vec<SyncRefusal>,
    /// False when the sync stopped at its request limit with work left (the next sync
    /// carries on).
    pub complete: bool,
}

impl SyncReport {
    /// Adds the counts of `other` (an earlier part of the same sync) to these.
    pub(super) fn add_counts(&mut self, other: &SyncReport) {
        self.requests += other.requests;
        self.bytes_sent += other.bytes_sent;
        self.bytes_received += other.bytes_received;
        self.photos_uploaded += other.photos_uploaded;
    }
}

/// Told whenever the sync status changes (a sync starts, makes progress, ends; a refusal is
/// dismissed). Called on the syncing thread: hop to the UI thread and return quickly.
#[cfg_attr(feature = "uniffi", uniffi::export(with_foreign))]
pub trait SyncObserver: Send + Sync {
    /// The new status.
    fn sync_status_changed(&self, status: SyncStatus);
}

/// The observers of one [`crate::Waystation`].
#[derive(Default)]
pub(crate) struct Observers {
    next_id: AtomicU64,
    list: Mutex<Vec<(u64, Arc<dyn SyncObserver>)>>,
}

impl Observers {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(u64, Arc<dyn SyncObserver>)>> {
        self.list.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn add(self: &Arc<Self>, observer: Arc<dyn SyncObserver>) -> Subscription {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.lock().push((id, observer));
        Subscription {
            observers: Arc::downgrade(self),
            id,
        }
    }

    fn remove(&self, id: u64) {
        self.lock().retain(|(i, _)| *i != id);
    }

    pub(super) fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Tells every observer. The list is copied first: an observer may subscribe or close
    /// from inside its callback without deadlocking.
    pub(super) fn notify(&self, status: &SyncStatus) {
        let observers: Vec<Arc<dyn SyncObserver>> =
            self.lock().iter().map(|(_, o)| o.clone()).collect();
        for observer in observers {
            observer.sync_status_changed(status.clone());
        }
    }
}

/// One observer's subscription to sync status changes. The observer is told until the
/// subscription is closed ([`Self::close`]) or dropped. In Kotlin, `close()` (it is
/// `AutoCloseable`) or `unsubscribe()`; in Swift and Python, `unsubscribe()` or letting go of it.
#[cfg_attr(feature = "uniffi", derive(uniffi::Object))]
pub struct Subscription {
    observers: Weak<Observers>,
    id: u64,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("id", &self.id)
            .finish()
    }
}

impl Subscription {
    /// Stops telling this subscription's observer; closing again does nothing.
    pub fn close(&self) {
        if let Some(observers) = self.observers.upgrade() {
            observers.remove(self.id);
        }
    }
}

#[cfg_attr(feature = "uniffi", uniffi::export)]
impl Subscription {
    /// Stops telling this subscription's observer (the same as dropping it, or `close()` in
    /// Kotlin); again does nothing.
    pub fn unsubscribe(&self) {
        self.close();
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.close();
    }
}

/// Per-instance sync state that lives in memory only: one sync at a time, whether one runs,
/// and the observers.
#[derive(Default)]
pub(crate) struct SyncRuntime {
    pub(super) running: Mutex<()>,
    pub(super) in_progress: AtomicBool,
    pub(super) observers: Arc<Observers>,
}

impl std::fmt::Debug for SyncRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncRuntime")
            .field("in_progress", &self.in_progress.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// The sync status of `ws`.
///
/// A document the server refused counts as refused, not pending: no sync will send it until
/// the user acts on it (a new edit, or a dismissal), so it must not keep the status from
/// saying "nothing pending".
pub(super) fn status(ws: &Device) -> Result<SyncStatus> {
    let conn = ws.store().read();
    let docs = pending_docs(&conn)?;
    let (refused, pending): (Vec<_>, Vec<_>) = docs.into_iter().partition(|d| d.refused);
    let mut pending_photos = 0i64;
    for d in &pending {
        if d.doc.kind == REPORT_KIND
            && let Some(doc) = documents::load(&conn, &d.doc.doc_id)?
        {
            pending_photos += photos_to_upload(&conn, &doc)?.len() as i64;
        } else if d.doc.kind == crate::reports::case::CASE_KIND
            && let Some(doc) = documents::load(&conn, &d.doc.doc_id)?
        {
            // A follow-up account's inspection photos wait with their case.
            let photos = super::photos::case_photos_to_upload(&conn, ws.data_dir(), &doc)?;
            pending_photos += photos.len() as i64;
        }
    }
    let (server, attempt, success, error, reoffered, held_back) = match ledger::meta(&conn)? {
        Some((s, a, ok, e, r, h)) => (Some(s), a, ok, e, r, h),
        None => (None, None, None, None, None, None),
    };
    Ok(SyncStatus {
        server,
        in_progress: ws.sync_runtime().in_progress.load(Ordering::SeqCst),
        pending_documents: pending.len() as i64,
        pending_photos,
        refused_documents: refused.len() as i64,
        last_attempt: parse_time(attempt),
        last_success: parse_time(success),
        last_error: error,
        last_reoffer: parse_time(reoffered),
        reoffer_held_back: parse_time(held_back),
    })
}

/// Tells the observers of `ws` its current status (nothing when there are none).
pub(super) fn notify(ws: &Device) {
    let observers = &ws.sync_runtime().observers;
    if observers.is_empty() {
        return;
    }
    match status(ws) {
        Ok(s) => observers.notify(&s),
        Err(e) => log::warn!(target: "waystation::sync", "sync status unavailable: {e}"),
    }
}

/// Documents the server refused at their current state, with the reasons.
pub(super) fn refusals(ws: &Device) -> Result<Vec<SyncRefusal>> {
    Ok(ledger::refusals(&ws.store().read())?
        .into_iter()
        .map(|(doc_id, reason, at)| SyncRefusal {
            doc_id,
            reason: reason.unwrap_or_default(),
            at: parse_time(at).unwrap_or_default(),
        })
        .collect())
}

/// Dismisses the refusal of `doc_id` (see [`super::SyncHandle::dismiss`]).
pub(super) fn dismiss(ws: &Device, doc_id: &str) -> Result<()> {
    if !ledger::dismiss_refusal(&mut ws.store().write(), doc_id)? {
        let shown: String = doc_id.chars().take(80).collect();
        return Err(Error::NotFound(format!(
            "'{shown}' has no refusal to dismiss (none, or edited since)"
        )));
    }
    notify(ws);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    struct Counting(AtomicUsize);

    impl SyncObserver for Counting {
        fn sync_status_changed(&self, _status: SyncStatus) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn several_observers_listen_until_their_subscription_ends() {
        let observers = Arc::new(Observers::default());
        let a = Arc::new(Counting(AtomicUsize::new(0)));
        let b = Arc::new(Counting(AtomicUsize::new(0)));
        let sub_a = observers.add(a.clone());
        let sub_b = observers.add(b.clone());
        observers.notify(&SyncStatus::default());
        assert_eq!(a.0.load(Ordering::SeqCst), 1);
        assert_eq!(b.0.load(Ordering::SeqCst), 1);
        sub_a.close();
        sub_a.close();
        observers.notify(&SyncStatus::default());
        assert_eq!(a.0.load(Ordering::SeqCst), 1, "closed");
        assert_eq!(b.0.load(Ordering::SeqCst), 2);
        drop(sub_b);
        observers.notify(&SyncStatus::default());
        assert_eq!(b.0.load(Ordering::SeqCst), 2, "dropped");
        assert!(observers.is_empty());
        // A subscription outliving its instance closes quietly.
        let sub = observers.add(a.clone());
        drop(observers);
        sub.close();
    }
}
