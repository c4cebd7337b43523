//! A supervisor's pulls, end to end: what a follow-up device that only reads its district sends
//! and receives. Real devices (data directories), a real server on loopback, on either store
//! (`WAYSTATION_TEST_STORE`); every `POST /v1/sync` is decoded on its way through the device's
//! transport, so the tests see each document's message and whether it carries changes.
//!
//! Why: in `sync_load` (docs/benchmarks.md) supervisor pulls took the server's write lock
//! although supervisors write nothing. The cause was the first message for a document the
//! device does not hold yet: the exchange's starting state with no shared heads makes
//! Automerge send the device's copy whole, and an empty copy is still one (empty) document
//! chunk, so the request "carried changes" and queued for SQLite's single writer. A pull with
//! nothing new receives nothing: no re-offer, no Bloom filter false positive, no cursor or
//! heads lost; the changes a pull receives are the riders' new ones.

use std::sync::Mutex;

use automerge::sync::Message;
use waystation_core::sync::protocol::{self, SyncRequest, SyncResponse};
use waystation_core::sync::{
    HttpRequest, HttpResponse, HttpTransport, ReqwestTransport, SyncReport, TransportError,
};
use waystation_core::{CancelToken, Options, Waystation};
use waystation_server::Role;
use waystation_tests::net::{Net, ServerDb};
use waystation_tests::reports::{report_with_photo, submitted_road_report};

/// Yanta district, where the fixtures' reports are.
const YANTA: &str = "610113";

/// One `POST /v1/sync` as the device sent it and the server answered it.
#[derive(Clone, Debug)]
struct Exchange {
    /// Each document of the request with the change chunks its message carries.
    sent: Vec<(String, usize)>,
    /// Each document of the answer with the change chunks its reply message carries.
    replies: Vec<(String, usize)>,
    /// The documents the feed listed.
    listed: Vec<String>,
    /// The cursor sent, and the one answered.
    cursor: (u64, u64),
}

impl Exchange {
    /// Whether the request carried changes (what makes the server take its write lock).
    fn carried_changes(&self) -> bool {
        self.sent.iter().any(|(_, n)| *n > 0)
    }
}

fn chunks(message: &[u8]) -> usize {
    Message::decode(message)
        .expect("a sync message")
        .changes
        .len()
}

/// The built-in transport, decoding each sync exchange; `after` runs after the answer to the
/// n-th sync request (1-based) came back, before the device reads it.
struct Recorder<'a> {
    inner: ReqwestTransport,
    seen: Mutex<Vec<Exchange>>,
    after: Option<&'a (dyn Fn(usize) + Send + Sync)>,
}

impl<'a> Recorder<'a> {
    fn new() -> Recorder<'a> {
        Recorder {
            inner: ReqwestTransport::new(None).expect("transport"),
            seen: Mutex::new(Vec::new()),
            after: None,
        }
    }

    /// The exchanges since the last call.
    fn take(&self) -> Vec<Exchange> {
        std::mem::take(&mut *self.seen.lock().unwrap())
    }
}

impl HttpTransport for Recorder<'_> {
    fn send(
        &self,
        request: HttpRequest,
        cancel: &CancelToken,
    ) -> Result<HttpResponse, TransportError> {
        let is_sync = request.method == "POST" && request.url.ends_with("/v1/sync");
        let sent: Option<SyncRequest> =
            is_sync.then(|| protocol::decode(&request.body).expect("a sync request"));
        let response = self.inner.send(request, cancel)?;
        if let Some(sent) = sent
            && response.status == 200
        {
            let answer: SyncResponse = protocol::decode(&response.body).expect("a sync response");
            let n = {
                let mut seen = self.seen.lock().unwrap();
                seen.push(Exchange {
                    sent: sent
                        .docs
                        .iter()
                        .map(|d| (d.doc_id.clone(), chunks(&d.message)))
                        .collect(),
                    replies: answer
                        .docs
                        .iter()
                        .map(|d| (d.doc_id.clone(), d.message.as_deref().map_or(0, chunks)))
                        .collect(),
                    listed: answer.changed.iter().map(|c| c.doc_id.clone()).collect(),
                    cursor: (sent.cursor, answer.cursor),
                });
                seen.len()
            };
            if let Some(after) = self.after {
                after(n);
            }
        }
        Ok(response)
    }
}

/// A device of its own account.
struct Device {
    ws: Waystation,
    token: String,
    _dir: tempfile::TempDir,
}

impl Device {
    fn new(net: &Net, name: &str, role: Role, areas: &[&str]) -> Device {
        let dir = tempfile::tempdir().expect("temp dir");
        Device {
            ws: Waystation::open(dir.path(), Options::default()).expect("device opens"),
            token: net.user(name, role, areas),
            _dir: dir,
        }
    }

    /// One whole sync through `transport`.
    fn sync(&self, net: &Net, transport: &Recorder<'_>) -> SyncReport {
        let r = self
            .ws
            .sync()
            .run(&net.settings(&self.token), transport, &CancelToken::never())
            .expect("sync");
        assert!(r.complete, "{r:?}");
        r
    }
}

/// A rider with five submitted reports (the first with a photo), synced; their ids.
fn rider_with_reports(net: &Net, rider: &Device) -> Vec<String> {
    let mut ids = vec![report_with_photo(&rider.ws, "rider-1", 70)];
    ids.extend((0..4).map(|i| submitted_road_report(&rider.ws, "rider-1", i)));
    let r = rider.sync(net, &Recorder::new());
    assert_eq!(r.documents_sent, 5, "{r:?}");
    ids
}

fn doc_ids(ids: &[String]) -> Vec<String> {
    let mut d: Vec<String> = ids.iter().map(|id| format!("report:{id}")).collect();
    d.sort();
    d
}

/// A pull that fetches new reports asks for them with messages that carry no changes, and
/// a pull with nothing new is one request that sends and receives no document. After a
/// rider's withdrawal, the next pull fetches exactly that report's one change.
#[test]
fn a_supervisors_pulls_send_no_changes_and_a_quiet_pull_receives_nothing() {
    let net = Net::start();
    let rider = Device::new(&net, "rider-1", Role::Rider, &[]);
    let sup = Device::new(&net, "sup-1", Role::Supervisor, &[YANTA]);
    let ids = rider_with_reports(&net, &rider);
    let t = Recorder::new();

    // The first pull: the feed lists the five reports, the next request fetches them.
    let r = sup.sync(&net, &t);
    assert_eq!(
        (r.requests, r.documents_received, r.documents_sent),
        (2, 5, 0)
    );
    let x = t.take();
    assert_eq!(x.len(), 2, "{x:#?}");
    let mut listed = x[0].listed.clone();
    listed.sort();
    assert_eq!(listed, doc_ids(&ids));
    assert!(x[0].sent.is_empty(), "{x:#?}");
    let fetched: Vec<String> = x[1].sent.iter().map(|(d, _)| d.clone()).collect();
    assert_eq!(fetched, doc_ids(&ids));
    assert!(
        !x[1].carried_changes(),
        "asking for documents the device does not hold carried changes: {x:#?}"
    );
    assert!(x[1].replies.iter().all(|(_, n)| *n > 0), "{x:#?}");
    let cursor = x[1].cursor.1;

    // Nothing new: one request, no document either way, the cursor where it was.
    for _ in 0..2 {
        let r = sup.sync(&net, &t);
        assert_eq!(
            (r.requests, r.documents_received, r.documents_sent),
            (1, 0, 0)
        );
        let x = t.take();
        assert_eq!(x.len(), 1);
        assert!(x[0].sent.is_empty() && x[0].replies.is_empty() && x[0].listed.is_empty());
        assert_eq!(x[0].cursor, (cursor, cursor));
    }

    // The rider withdraws one report: the next pull gets that one change, and no more.
    rider
        .ws
        .reports()
        .withdraw("rider-1", &ids[2], "已修复")
        .unwrap();
    assert_eq!(rider.sync(&net, &Recorder::new()).documents_sent, 1);
    let r = sup.sync(&net, &t);
    assert_eq!(
        (r.requests, r.documents_received, r.documents_sent),
        (2, 1, 0)
    );
    let x = t.take();
    let withdrawn = format!("report:{}", ids[2]);
    assert_eq!(x[0].listed, vec![withdrawn.clone()]);
    assert_eq!(x[1].sent, vec![(withdrawn.clone(), 0)]);
    assert_eq!(x[1].replies, vec![(withdrawn, 1)]);
    let r = sup.sync(&net, &t);
    assert_eq!((r.requests, r.documents_received), (1, 0));
    assert!(t.take()[0].listed.is_empty());
}

/// Another connection's hold on the server database that makes writers wait and lets readers
/// through: SQLite's write lock, or on PostgreSQL the feed position's row lock, which every
/// writer takes at its commit.
enum WriteLock {
    Sqlite(rusqlite::Connection),
    Postgres(waystation_server::store::postgres::scratch::FeedLock),
}

fn hold_write_lock(db: &ServerDb) -> WriteLock {
    match db {
        ServerDb::Sqlite(file) => {
            let conn = rusqlite::Connection::open(file).expect("server database");
            conn.execute_batch("BEGIN IMMEDIATE").expect("write lock");
            WriteLock::Sqlite(conn)
        }
        ServerDb::Postgres(url) => WriteLock::Postgres(
            waystation_server::store::postgres::scratch::hold_feed_lock(url).expect("feed lock"),
        ),
    }
}

/// A supervisor's pull reads: it is answered while a writer holds the database, where a
/// request carrying changes would queue behind it (and, past the wait, be refused `503`).
#[test]
fn a_supervisors_pull_does_not_wait_for_writers() {
    let net = Net::start();
    let rider = Device::new(&net, "rider-1", Role::Rider, &[]);
    let sup = Device::new(&net, "sup-1", Role::Supervisor, &[YANTA]);
    let ids = rider_with_reports(&net, &rider);
    let lock = hold_write_lock(&net.server_db());
    let t = Recorder::new();
    let mut settings = net.settings(&sup.token);
    settings.retry.attempts = 1;
    let r = sup
        .ws
        .sync()
        .run(&settings, &t, &CancelToken::never())
        .expect("a pull is answered while a writer holds the database");
    assert_eq!((r.documents_received, r.requests), (5, 2), "{r:?}");
    assert!(t.take().iter().all(|x| !x.carried_changes()));
    match lock {
        WriteLock::Sqlite(conn) => conn.execute_batch("COMMIT").expect("released"),
        WriteLock::Postgres(lock) => lock.release().expect("released"),
    }
    for id in &ids {
        assert_eq!(sup.ws.reports().get(id).unwrap().author, "rider-1");
    }
}

/// A rider's withdrawal that lands in the middle of a supervisor's pull (after the feed listed
/// the report, before the device fetched it) reaches the supervisor in that pull; the next
/// pull receives nothing again.
#[test]
fn a_withdrawal_during_a_pull_arrives_once() {
    let net = Net::start();
    let rider = Device::new(&net, "rider-1", Role::Rider, &[]);
    let sup = Device::new(&net, "sup-1", Role::Supervisor, &[YANTA]);
    let ids = rider_with_reports(&net, &rider);
    let withdraw = |n: usize| {
        if n == 1 {
            rider
                .ws
                .reports()
                .withdraw("rider-1", &ids[3], "已修复")
                .unwrap();
            assert_eq!(rider.sync(&net, &Recorder::new()).documents_sent, 1);
        }
    };
    let mut t = Recorder::new();
    t.after = Some(&withdraw);
    let r = sup.sync(&net, &t);
    assert_eq!((r.requests, r.documents_received), (2, 5), "{r:?}");
    let x = t.take();
    assert!(x.iter().all(|x| !x.carried_changes()), "{x:#?}");
    // The fetch got the report as withdrawn (two changes: the report and its withdrawal, in
    // one document chunk), and the feed did not list it again in that request.
    assert!(x[1].listed.is_empty(), "{x:#?}");
    let held = sup.ws.reports().get(&ids[3]).unwrap();
    assert!(held.withdrawn_at.is_some(), "{held:?}");
    assert_eq!(held.status, rider.ws.reports().get(&ids[3]).unwrap().status);

    let t = Recorder::new();
    let r = sup.sync(&net, &t);
    assert_eq!((r.requests, r.documents_received), (1, 0), "{r:?}");
    let x = t.take();
    assert!(x[0].listed.is_empty() && x[0].sent.is_empty(), "{x:#?}");
}
