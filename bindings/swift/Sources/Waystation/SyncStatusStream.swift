// The sync status as an AsyncStream, over `SyncClient.subscribe`.

import Foundation

/// Forwards the core's status callbacks into a stream's continuation.
private final class StatusForwarder: SyncObserver {
    private let continuation: AsyncStream<SyncStatus>.Continuation

    init(_ continuation: AsyncStream<SyncStatus>.Continuation) {
        self.continuation = continuation
    }

    func syncStatusChanged(status: SyncStatus) {
        continuation.yield(status)
    }
}

public extension SyncClient {
    /// The sync status as an `AsyncStream`: the current status first, then every change (a sync
    /// starts, makes progress, ends; a refusal is dismissed).
    ///
    /// Each stream holds its own `Subscription`, so several views may listen at once; it is
    /// closed when the stream ends (the consuming task is cancelled or stops iterating). The
    /// core calls back on the syncing thread; the stream hands statuses to the consuming task.
    /// A slow consumer sees the newest status, not every step (statuses are whole snapshots).
    ///
    /// ```swift
    /// for await status in ws.sync().statusStream() { render(status) }
    /// ```
    func statusStream() -> AsyncStream<SyncStatus> {
        AsyncStream(bufferingPolicy: .bufferingNewest(1)) { continuation in
            let subscription = self.subscribe(observer: StatusForwarder(continuation))
            // Subscribed first, so that no change between the two is missed.
            if let now = try? self.status() {
                continuation.yield(now)
            }
            continuation.onTermination = { _ in
                subscription.unsubscribe()
            }
        }
    }
}
