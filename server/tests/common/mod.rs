//! Shared fixtures for the server's tests: a real server on loopback over a real SQLite file,
//! a plain HTTP client, real report and case documents made by a device through
//! waystation-core's public API, and a small hand-written sync client that speaks the
//! protocol the way `docs/sync-protocol.md` describes the device's side.

#![allow(dead_code)]

use automerge::sync::{Capability, Have, Message, State, SyncDoc};
use automerge::transaction::Transactable;
use automerge::{AutoCommit, ChangeHash, ROOT};
use chrono::{DateTime, Duration, Utc};
use reqwest::StatusCode;
use reqwest::blocking::{Client, Response};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Once};
use waystation_core::packs;
use waystation_core::reports::{CaseEventKind, CaseRole, ReportPatch, ReportRules};
use waystation_core::store::documents::{self, root_str};
use waystation_core::sync::protocol::{
    self, DocMessage, DocReply, ErrorBody, SyncRequest, SyncResponse,
};
use waystation_core::{FixedClock, Options, Waystation};
use waystation_server::store::postgres::scratch::{self, ScratchDb};
use waystation_server::{Admin, Role, ServerConfig, ServerHandle};

/// Monday 2026-11-30, 12:00 in Xi'an: the time every test server and device stands at.
pub fn noon() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-30T04:00:00Z")
        .expect("fixed time parses")
        .with_timezone(&Utc)
}

/// The Bell Tower, WGS-84.
pub const BELL_TOWER: (f64, f64) = (34.25953, 108.94235);

/// A district no test report is in.
pub const OTHER_DISTRICT: &str = "610116";

/// The bundled Xi'an sample station pack, signed with the demo key.
pub fn sample_station_pack() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../data/stations/xian-sample.pack.json"
    ))
    .expect("sample station pack exists")
}

/// The real training pack, signed with the demo key.
pub fn training_pack() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../data/training/xian-training.pack.json"
    ))
    .expect("training pack exists")
}

/// The variable that picks the store every server test runs on: `postgres` runs them on a
/// scratch PostgreSQL database each (on the server `WAYSTATION_TEST_PG` names; a test fails
/// when it cannot make one), anything else or nothing on a SQLite file. `scripts/test-all.sh`
/// runs the suite once per store.
pub const TEST_STORE_VAR: &str = "WAYSTATION_TEST_STORE";

/// Whether this run's tests use PostgreSQL.
pub fn on_postgres() -> bool {
    std::env::var(TEST_STORE_VAR).is_ok_and(|s| s == "postgres")
}

/// A fresh database for one test: a SQLite file in `dir`, or a scratch PostgreSQL database
/// (returned too: it is dropped with it).
pub fn fresh_db(dir: &Path) -> (PathBuf, Option<ScratchDb>) {
    if on_postgres() {
        let pg = ScratchDb::create("server").unwrap_or_else(|e| panic!("{e}"));
        (PathBuf::from(pg.url()), Some(pg))
    } else {
        (dir.join("server.sqlite3"), None)
    }
}

/// A server over a fresh database (a temporary SQLite file, or a scratch PostgreSQL database,
/// see [`on_postgres`]), with a fixed clock.
pub struct TestServer {
    pub dir: tempfile::TempDir,
    pub db: PathBuf,
    pub clock: Arc<FixedClock>,
    pub handle: Option<ServerHandle>,
    /// The PostgreSQL database, dropped after the server (fields drop in order).
    pub pg: Option<ScratchDb>,
}

impl TestServer {
    /// Starts a plain-HTTP server on an ephemeral loopback port.
    pub fn start() -> TestServer {
        TestServer::start_with(|c| c)
    }

    /// A server whose configuration `configure` adjusts.
    pub fn start_with(configure: impl FnOnce(ServerConfig) -> ServerConfig) -> TestServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let (db, pg) = fresh_db(dir.path());
        let clock = Arc::new(FixedClock::new(noon()));
        let handle = waystation_server::spawn_config_on_thread(configure(ServerConfig {
            clock: clock.clone(),
            ..ServerConfig::new(&db, "127.0.0.1:0".parse().unwrap())
        }))
        .expect("server starts");
        TestServer {
            dir,
            db,
            clock,
            handle: Some(handle),
            pg,
        }
    }

    /// The server's base URL.
    pub fn url(&self) -> String {
        self.handle.as_ref().expect("server running").url()
    }

    /// Administration of the server's database, at the server's clock.
    pub fn admin(&self) -> Admin {
        Admin::open(&self.db)
            .expect("admin opens")
            .with_clock(self.clock.clone())
    }

    /// Adds an account and returns an API client for it.
    pub fn user(&self, user: &str, role: Role, areas: &[&str]) -> Api {
        let areas: Vec<String> = areas.iter().map(|s| s.to_string()).collect();
        let token = self
            .admin()
            .add_user(user, role, &areas, Duration::days(30))
            .expect("user added");
        Api::new(&self.url(), &token)
    }

    /// Reads one integer from the server's database.
    pub fn count(&self, sql: &str) -> i64 {
        server_count(&self.db, sql)
    }
}

/// Reads one integer from the server database at `db` (SQLite's SQL; on PostgreSQL the one
/// query that differs, the next feed position, is asked of its own table).
pub fn server_count(db: &Path, sql: &str) -> i64 {
    if let Some(url) = db.to_str().filter(|d| waystation_server::store::is_url(d)) {
        let sql = match sql {
            "SELECT next_seq FROM meta" => "SELECT last + 1 FROM feed_position",
            other => other,
        };
        return scratch::query_i64(url, sql).expect("query runs");
    }
    let conn = rusqlite::Connection::open(db).expect("db opens");
    conn.query_row(sql, [], |r| r.get(0)).expect("query runs")
}

/// Another process's hold on the server database that makes writers wait and lets readers
/// through: SQLite's write lock (`BEGIN IMMEDIATE`), or on PostgreSQL the feed position's row
/// lock, which every writer takes at its commit (decision 0011).
pub enum WriteLock {
    /// A SQLite connection inside `BEGIN IMMEDIATE`.
    Sqlite(rusqlite::Connection),
    /// A PostgreSQL transaction holding the feed position's row.
    Postgres(scratch::FeedLock),
}

/// Takes [`WriteLock`] on the database at `db`.
pub fn hold_write_lock(db: &Path) -> WriteLock {
    if let Some(url) = db.to_str().filter(|d| waystation_server::store::is_url(d)) {
        return WriteLock::Postgres(scratch::hold_feed_lock(url).expect("feed lock taken"));
    }
    let conn = rusqlite::Connection::open(db).expect("db opens");
    conn.execute_batch("BEGIN IMMEDIATE")
        .expect("write lock taken");
    WriteLock::Sqlite(conn)
}

impl WriteLock {
    /// Releases the lock (commits the empty transaction).
    pub fn release(self) {
        match self {
            WriteLock::Sqlite(conn) => conn.execute_batch("COMMIT").expect("committed"),
            WriteLock::Postgres(lock) => lock.release().expect("released"),
        }
    }
}

/// One bytes column of one row of the server database at `db`: `sql` is SQLite's, with one
/// parameter `?1` (`$1` on PostgreSQL).
pub fn server_bytes(db: &Path, sql: &str, param: &str) -> Option<Vec<u8>> {
    if let Some(url) = db.to_str().filter(|d| waystation_server::store::is_url(d)) {
        return scratch::query_bytes(url, &sql.replace("?1", "$1"), param).expect("query runs");
    }
    let conn = rusqlite::Connection::open(db).expect("db opens");
    conn.query_row(sql, [param], |r| r.get(0)).ok()
}

/// A blocking HTTP client (reqwest with rustls and ring, as the devices use).
pub fn http_client() -> Client {
    static PROVIDER: Once = Once::new();
    PROVIDER.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
    Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .expect("client builds")
}

/// One account's view of the API.
pub struct Api {
    pub base: String,
    pub token: String,
    pub http: Client,
}

/// A decoded error answer.
#[derive(Debug)]
pub struct Failure {
    pub status: StatusCode,
    pub body: ErrorBody,
}

impl Api {
    pub fn new(base: &str, token: &str) -> Api {
        Api {
            base: base.to_string(),
            token: token.to_string(),
            http: http_client(),
        }
    }

    pub fn with_token(&self, token: &str) -> Api {
        Api::new(&self.base, token)
    }

    /// The same account on another server (base URL).
    pub fn on_server(&self, base: &str) -> Api {
        Api::new(base, &self.token)
    }

    /// POSTs raw bytes to /v1/sync.
    pub fn post_sync_raw(&self, body: Vec<u8>) -> Response {
        self.http
            .post(format!("{}/v1/sync", self.base))
            .bearer_auth(&self.token)
            .header("content-type", protocol::CBOR_CONTENT_TYPE)
            .body(body)
            .send()
            .expect("request sent")
    }

    /// A sync request, decoded answer or error.
    pub fn sync(&self, request: &SyncRequest) -> Result<SyncResponse, Failure> {
        decode_answer(self.post_sync_raw(protocol::encode(request)))
    }

    pub fn get(&self, path: &str) -> Response {
        self.http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .expect("request sent")
    }

    pub fn head(&self, path: &str) -> Response {
        self.http
            .head(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .expect("request sent")
    }

    pub fn put(&self, path: &str, body: Vec<u8>) -> Response {
        self.http
            .put(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .body(body)
            .send()
            .expect("request sent")
    }
}

/// Decodes a 200 CBOR answer, or the error body of anything else.
pub fn decode_answer<T: serde::de::DeserializeOwned>(r: Response) -> Result<T, Failure> {
    let status = r.status();
    let bytes = r.bytes().expect("body read");
    if status == StatusCode::OK {
        Ok(protocol::decode(&bytes).expect("a 200 answer decodes"))
    } else {
        Err(Failure {
            status,
            body: protocol::decode(&bytes).unwrap_or_else(|e| {
                panic!(
                    "{status} answer is not an ErrorBody ({e}): {:?}",
                    String::from_utf8_lossy(&bytes)
                )
            }),
        })
    }
}

/// Asserts an error answer's status and code.
pub fn assert_error(r: Response, status: u16, code: &str) -> ErrorBody {
    let f = decode_answer::<SyncResponse>(r).expect_err("an error answer");
    assert_eq!(f.status.as_u16(), status, "{:?}", f.body);
    assert_eq!(f.body.code, code, "{:?}", f.body);
    assert!(!f.body.message.is_empty());
    f.body
}

/// A device that makes real documents through waystation-core's public API.
pub struct Factory {
    pub dir: tempfile::TempDir,
    pub ws: Waystation,
}

impl Factory {
    /// A device at noon with the sample station pack installed.
    pub fn new() -> Factory {
        let dir = tempfile::tempdir().expect("temp dir");
        let ws = Waystation::open_with_clock(
            dir.path(),
            Options {
                trusted_keys: vec![packs::demo_trusted_key()],
                ..Options::default()
            },
            Arc::new(FixedClock::new(noon())),
        )
        .expect("device opens");
        ws.packs()
            .import_stations(&sample_station_pack())
            .expect("sample pack installs");
        Factory { dir, ws }
    }

    /// A draft report by `author` near the Bell Tower with every field any category needs.
    pub fn draft(&self, author: &str, category: &str) -> String {
        let id = self
            .ws
            .reports()
            .create_draft(author, category)
            .expect("draft created");
        self.ws
            .reports()
            .update_draft(
                id.as_str(),
                &ReportPatch {
                    merchant_name: Some("老孙家泡馍".into()),
                    description: Some("外卖封签被撕开".into()),
                    address: Some("钟楼东南角".into()),
                    ..Default::default()
                },
            )
            .expect("draft updated");
        self.ws
            .reports()
            .set_position(
                id.as_str(),
                &waystation_core::reports::PositionFix {
                    lat: BELL_TOWER.0,
                    lon: BELL_TOWER.1,
                    datum: waystation_core::geo::Datum::Wgs84,
                    accuracy_m: Some(8.0),
                    fix_time: self.ws.now(),
                    mock: false,
                },
            )
            .expect("position set");
        id.to_string()
    }

    /// Submits a draft.
    pub fn submit(&self, author: &str, id: &str) {
        self.ws
            .reports()
            .submit(author, id, &ReportRules::default())
            .expect("report submitted");
    }

    /// A submitted report by `author`; returns its id.
    pub fn report(&self, author: &str, category: &str) -> String {
        let id = self.draft(author, category);
        self.submit(author, &id);
        id
    }

    /// A report with a real PNG photo; returns the id and the stored photo's bytes.
    pub fn report_with_photo(&self, author: &str) -> (String, Vec<u8>) {
        let id = self.draft(author, "food.seal");
        let photo = self
            .ws
            .reports()
            .attach_photo(&id, &png_1x1(), &ReportRules::default())
            .expect("photo attached");
        let bytes = std::fs::read(
            self.ws
                .reports()
                .photo_path(&photo.sha256)
                .expect("photo stored"),
        )
        .expect("photo file reads");
        self.submit(author, &id);
        (id, bytes)
    }

    /// Records a case event on `report_id` as `actor` in `role` (the device trusts its user;
    /// the server checks the account).
    pub fn case_event(&self, report_id: &str, actor: &str, role: CaseRole, kind: CaseEventKind) {
        self.ws
            .cases()
            .record(report_id, actor, role, kind, "")
            .expect("case event recorded");
    }

    /// A stored document, as the device holds it.
    pub fn doc(&self, doc_id: &str) -> AutoCommit {
        documents::load(&self.ws.store().read(), doc_id)
            .expect("document loads")
            .expect("document exists")
    }

    /// A submitted report's document, with a district: the one submission gave it, or
    /// [`REPORT_DISTRICT`] for a core that does not set one.
    pub fn report_doc(&self, report_id: &str) -> AutoCommit {
        let mut doc = self.doc(&format!("report:{report_id}"));
        if root_str(&doc, "district").is_none() {
            doc.put(ROOT, "district", REPORT_DISTRICT).unwrap();
            doc.commit();
        }
        doc
    }
}

/// The district fixture reports are put in when submission did not set one.
pub const REPORT_DISTRICT: &str = "610103";

/// A report document's district.
pub fn district_of(doc: &AutoCommit) -> String {
    root_str(doc, "district").expect("report has a district")
}

/// CRC-32 as PNG uses it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut c = (data.len() as u32).to_be_bytes().to_vec();
    let mut body = kind.to_vec();
    body.extend_from_slice(data);
    c.extend_from_slice(&body);
    c.extend_from_slice(&crc32(&body).to_be_bytes());
    c
}

/// A real 1×1 grey PNG.
pub fn png_1x1() -> Vec<u8> {
    let mut p = b"\x89PNG\r\n\x1a\n".to_vec();
    p.extend(png_chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0]));
    p.extend(png_chunk(
        b"IDAT",
        &[0x78, 0x9c, 0x63, 0x60, 0, 0, 0, 2, 0, 1],
    ));
    p.extend(png_chunk(b"IEND", b""));
    p
}

/// A real 1×1 PNG of grey shade `g` (a stored deflate block), so each shade has its own hash.
pub fn png_grey(g: u8) -> Vec<u8> {
    let a = 1u32 + u32::from(g);
    let adler = ((a + 1) << 16) | a;
    let mut idat = vec![0x78, 0x01, 0x01, 0x02, 0x00, 0xfd, 0xff, 0x00, g];
    idat.extend_from_slice(&adler.to_be_bytes());
    let mut p = b"\x89PNG\r\n\x1a\n".to_vec();
    p.extend(png_chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0]));
    p.extend(png_chunk(b"IDAT", &idat));
    p.extend(png_chunk(b"IEND", b""));
    p
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    waystation_core::packs::sha256_hex(bytes)
}

/// A training progress document for `user`, made by hand: schema and owner, plus `n` lesson
/// completions (`lesson-<i>`), one change each, inside the layout the server's progress check
/// allows (no other root field).
pub fn progress_doc(user: &str, n: usize) -> AutoCommit {
    let mut doc = AutoCommit::new();
    doc.put(ROOT, "schema", "waystation/training-progress")
        .unwrap();
    doc.put(ROOT, "user", user).unwrap();
    let completed = doc
        .put_object(ROOT, "completed", automerge::ObjType::Map)
        .unwrap();
    doc.commit();
    for i in 0..n {
        let at = automerge::ScalarValue::Timestamp(1_800_000_000_000 + i as i64);
        doc.put(&completed, format!("lesson-{i}"), at).unwrap();
        doc.commit();
    }
    doc
}

/// A sync message that carries every change of `doc` since `shared` (the heads both sides
/// had at the last sync), the way the device's client builds its first message: a sync state
/// that assumes the server has exactly `shared`.
pub fn message_since(doc: &mut AutoCommit, shared: &[ChangeHash]) -> (Message, State) {
    let mut state = State::new();
    if !shared.is_empty() || !doc.get_heads().is_empty() {
        state.shared_heads = shared.to_vec();
        state.their_heads = Some(shared.to_vec());
        state.their_have = Some(vec![Have {
            last_sync: shared.to_vec(),
            bloom: Default::default(),
        }]);
        state.their_need = Some(vec![]);
        state.their_capabilities = Some(vec![Capability::MessageV2]);
    }
    let m = doc
        .sync()
        .generate_sync_message(&mut state)
        .expect("a message");
    (m, state)
}

/// The encoded message of [`message_since`].
pub fn encoded_since(doc: &mut AutoCommit, shared: &[ChangeHash]) -> Vec<u8> {
    message_since(doc, shared).0.encode()
}

/// One document in a [`SyncRequest`].
pub fn doc_message(doc_id: &str, kind: &str, message: Vec<u8>) -> DocMessage {
    DocMessage {
        doc_id: doc_id.into(),
        kind: kind.into(),
        message,
    }
}

/// A hand-written device: replicas of documents with the heads last shared with the server,
/// and the feed cursor. It syncs like `docs/sync-protocol.md` says a device does.
pub struct Device {
    pub api: Api,
    pub docs: BTreeMap<String, Replica>,
    pub cursor: u64,
}

/// A device's copy of one document.
pub struct Replica {
    pub kind: String,
    pub doc: AutoCommit,
    pub shared: Vec<ChangeHash>,
    pub refused: Option<String>,
    pub dirty: bool,
}

impl Device {
    pub fn new(api: Api) -> Device {
        Device {
            api,
            docs: BTreeMap::new(),
            cursor: 0,
        }
    }

    /// Adds (or replaces) a local document, dirty.
    pub fn put(&mut self, doc_id: &str, kind: &str, doc: AutoCommit) {
        self.docs.insert(
            doc_id.to_string(),
            Replica {
                kind: kind.to_string(),
                doc,
                shared: vec![],
                refused: None,
                dirty: true,
            },
        );
    }

    /// One request with the given documents; applies the replies and records the feed.
    pub fn exchange(&mut self, ids: &[String]) -> Result<SyncResponse, Failure> {
        let mut states = Vec::new();
        let mut request = SyncRequest {
            cursor: self.cursor,
            docs: vec![],
        };
        for id in ids {
            let r = self.docs.get_mut(id).expect("local document");
            let (m, state) = if r.doc.get_heads().is_empty() {
                let mut s = State::new();
                let m = r.doc.sync().generate_sync_message(&mut s).expect("message");
                (m, s)
            } else {
                message_since(&mut r.doc, &r.shared.clone())
            };
            states.push(state);
            request.docs.push(doc_message(id, &r.kind, m.encode()));
        }
        let response = self.api.sync(&request)?;
        assert_eq!(response.docs.len(), ids.len(), "one reply per document");
        for ((id, reply), mut state) in ids.iter().zip(&response.docs).zip(states) {
            assert_eq!(&reply.doc_id, id, "replies in request order");
            self.apply(id, reply, &mut state);
        }
        for c in &response.changed {
            self.docs
                .entry(c.doc_id.clone())
                .or_insert_with(|| Replica {
                    kind: c.kind.clone(),
                    doc: AutoCommit::new(),
                    shared: vec![],
                    refused: None,
                    dirty: false,
                });
        }
        self.cursor = response.cursor;
        Ok(response)
    }

    fn apply(&mut self, id: &str, reply: &DocReply, state: &mut State) {
        let r = self.docs.get_mut(id).expect("local document");
        if let Some(m) = &reply.message {
            let m = Message::decode(m).expect("reply message decodes");
            let server_heads = m.heads.clone();
            r.doc
                .sync()
                .receive_sync_message(state, m)
                .expect("reply applies");
            let mut mine = r.doc.get_heads();
            mine.sort();
            let mut theirs = server_heads;
            theirs.sort();
            if reply.refused.is_none() && mine == theirs {
                r.shared = mine;
                r.dirty = false;
            }
        }
        r.refused = reply.refused.clone();
    }

    /// Syncs until nothing is left to send (at most 16 requests): every dirty document and
    /// every document the feed named, as a device does.
    pub fn sync(&mut self) -> Vec<SyncResponse> {
        let mut responses = Vec::new();
        let mut pending: Vec<String> = self
            .docs
            .iter()
            .filter(|(_, r)| r.dirty && r.refused.is_none())
            .map(|(id, _)| id.clone())
            .collect();
        for _ in 0..16 {
            let response = self.exchange(&pending).expect("sync succeeds");
            let more = response.more;
            let mut next: Vec<String> = response.changed.iter().map(|c| c.doc_id.clone()).collect();
            for reply in &response.docs {
                let r = &self.docs[&reply.doc_id];
                if reply.refused.is_none() && r.dirty && !next.contains(&reply.doc_id) {
                    next.push(reply.doc_id.clone());
                }
            }
            responses.push(response);
            if next.is_empty() && !more {
                return responses;
            }
            pending = next;
        }
        panic!("sync did not converge in 16 requests");
    }

    /// A local document's heads, sorted.
    pub fn heads(&mut self, id: &str) -> Vec<ChangeHash> {
        let mut h = self
            .docs
            .get_mut(id)
            .expect("local document")
            .doc
            .get_heads();
        h.sort();
        h
    }
}

/// A server document's heads as stored, sorted (empty when the server has none).
pub fn server_heads(db: &Path, doc_id: &str) -> Vec<ChangeHash> {
    server_bytes(db, "SELECT heads FROM docs WHERE doc_id = ?1", doc_id)
        .unwrap_or_default()
        .chunks(32)
        .map(|c| ChangeHash::try_from(c).expect("32-byte hash"))
        .collect()
}
