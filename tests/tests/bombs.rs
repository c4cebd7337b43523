//! A hostile server's decompression and expansion bombs, end to end: a real device syncing
//! through a tiny loopback HTTP server that passes every request on to a real
//! `waystation-server` and swaps the sync reply's messages for a bomb. The device gets a
//! `Server` error, its memory stays bounded, nothing it stores changes, and an honest sync
//! afterwards completes.
//!
//! The device, the real server and the hostile one all run in this test process, so its peak
//! resident memory (`VmHWM`, reset by writing `5` to /proc/self/clear_refs) bounds what the
//! device spent on the bomb.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use waystation_core::store::DB_FILE;
use waystation_core::sync::bounds::bombs;
use waystation_core::sync::policy::MAX_INFLATED_MESSAGE_BYTES;
use waystation_core::sync::protocol::{self, SyncResponse};
use waystation_core::sync::{
    HttpHeader, HttpRequest, HttpTransport, ReqwestTransport, RetryPolicy, SyncSettings,
};
use waystation_core::{Error, FixedClock, Options, Waystation};
use waystation_server::{Admin, Role, ServerConfig};

/// Memory growth allowed while the device refuses a bomb.
const MAX_GROWTH_BYTES: u64 = 100 * 1024 * 1024;

/// One bomb at a time: the peak memory is the whole process's.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Monday 2026-11-30, 12:00 in Xi'an.
fn noon() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-30T04:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn http() -> ReqwestTransport {
    ReqwestTransport::new(None).unwrap()
}

/// A loopback HTTP server that relays each request (one per connection) to `upstream` and
/// answers with the upstream's answer, except that a successful `POST /v1/sync` answer has
/// every document's reply message replaced by `message`.
fn hostile_relay(upstream: String, message: Vec<u8>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { continue };
            let _ = relay_one(conn, &upstream, &message);
        }
    });
    addr
}

fn relay_one(conn: TcpStream, upstream: &str, message: &[u8]) -> std::io::Result<()> {
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let (method, path) = (
        parts.next().unwrap_or("").to_string(),
        parts.next().unwrap_or("").to_string(),
    );
    let mut headers = Vec::new();
    let mut length = 0usize;
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            let (k, v) = (k.trim().to_string(), v.trim().to_string());
            if k.eq_ignore_ascii_case("content-length") {
                length = v.parse().unwrap_or(0);
            } else if !["host", "connection"]
                .iter()
                .any(|h| k.eq_ignore_ascii_case(h))
            {
                headers.push(HttpHeader::new(k, v));
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let is_sync = method == "POST" && path == "/v1/sync";
    let mut resp = http()
        .send(
            HttpRequest {
                method,
                url: format!("{upstream}{path}"),
                headers,
                body,
                timeout_ms: 30_000,
                max_body_bytes: i64::MAX,
            },
            &waystation_core::CancelToken::never(),
        )
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    if is_sync && resp.status == 200 {
        let mut answer: SyncResponse = protocol::decode(&resp.body).unwrap();
        for d in &mut answer.docs {
            d.message = Some(message.to_vec());
        }
        resp.body = protocol::encode(&answer);
    }
    let mut out = conn;
    write!(out, "HTTP/1.1 {} Relayed\r\n", resp.status)?;
    for HttpHeader { name: k, value: v } in &resp.headers {
        if !["content-length", "transfer-encoding", "connection"]
            .iter()
            .any(|h| k.eq_ignore_ascii_case(h))
        {
            write!(out, "{k}: {v}\r\n")?;
        }
    }
    write!(
        out,
        "content-length: {}\r\nconnection: close\r\n\r\n",
        resp.body.len()
    )?;
    out.write_all(&resp.body)?;
    out.flush()
}

/// Resets the process's peak resident memory to its current size and returns it, in bytes.
fn reset_peak_memory() -> u64 {
    std::fs::write("/proc/self/clear_refs", "5").expect("peak memory resets (Linux)");
    peak_memory()
}

/// The process's peak resident memory since the last reset, in bytes.
fn peak_memory() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/self/status");
    kb * 1024
}

/// Every row of every table of the device's database, as text, in a stable order.
fn everything_stored(data_dir: &Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(data_dir.join(DB_FILE)).unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut rows = Vec::new();
    for t in tables {
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{t}\"")).unwrap();
        let n = stmt.column_count();
        let mut table_rows: Vec<String> = stmt
            .query_map([], |r| {
                let cells: Vec<String> = (0..n)
                    .map(|i| format!("{:?}", r.get_ref(i).unwrap()))
                    .collect();
                Ok(format!("{t}: {}", cells.join(" | ")))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        table_rows.sort();
        rows.extend(table_rows);
    }
    rows
}

/// The same bomb as the reply to a device's sync: a `Server` error naming the limit, memory
/// growth under [`MAX_GROWTH_BYTES`], every stored row as it was, and an honest sync after.
fn device_refuses(bomb: Vec<u8>) {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(FixedClock::new(noon()));
    let db = dir.path().join("server.db");
    let server = waystation_server::spawn_config_on_thread(ServerConfig {
        clock: clock.clone(),
        ..ServerConfig::new(&db, "127.0.0.1:0".parse().unwrap())
    })
    .unwrap();
    let token = Admin::open(&db)
        .unwrap()
        .with_clock(clock.clone())
        .add_user("rider-1", Role::Rider, &[], chrono::Duration::days(30))
        .unwrap();
    let data = dir.path().join("device");
    std::fs::create_dir(&data).unwrap();
    let ws = Waystation::open_with_clock(&data, Options::default(), clock.clone()).unwrap();
    let id = waystation_tests::reports::submitted_road_report(&ws, "rider-1", 1);

    let relay = hostile_relay(server.url(), bombs::sync_message(&[bomb]));
    let settings = |url: &str| {
        let mut s = SyncSettings::new(url, &token).unwrap();
        s.retry = RetryPolicy {
            attempts: 1,
            base_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(50),
        };
        s
    };
    let report_before = ws.reports().get(&id).unwrap();
    let stored_before = everything_stored(&data);
    let before = reset_peak_memory();
    let err = ws
        .sync()
        .run(
            &settings(&format!("http://{relay}")),
            &http(),
            &waystation_core::CancelToken::never(),
        )
        .unwrap_err();
    let growth = peak_memory().saturating_sub(before);
    let Error::Server { message, .. } = &err else {
        panic!("{err:?}")
    };
    let says = format!("inflates to more than {MAX_INFLATED_MESSAGE_BYTES} bytes");
    assert!(message.contains(&says), "{message}");
    assert!(
        growth < MAX_GROWTH_BYTES,
        "memory grew by {} MB refusing a bomb",
        growth >> 20
    );
    assert_eq!(ws.reports().get(&id).unwrap(), report_before);
    let stored_after = everything_stored(&data);
    // The sync's own bookkeeping (when it last ran, its last error) may change; no document,
    // report, outbox entry or shared-heads record does.
    let data_rows = |rows: &[String]| -> Vec<String> {
        rows.iter()
            .filter(|r| !r.starts_with("sync_meta:"))
            .cloned()
            .collect()
    };
    assert_eq!(data_rows(&stored_after), data_rows(&stored_before));

    // The real server, honestly: the report syncs.
    let r = ws
        .sync()
        .run(
            &settings(&server.url()),
            &http(),
            &waystation_core::CancelToken::never(),
        )
        .unwrap();
    assert!(r.complete, "{r:?}");
    assert_eq!(ws.sync().status().unwrap().pending_documents, 0);
}

#[test]
fn a_hostile_servers_compressed_change_bomb_is_a_server_error_and_changes_nothing() {
    device_refuses(bombs::compressed_change(4096));
}

#[test]
fn a_hostile_servers_deflated_column_bomb_is_a_server_error_and_changes_nothing() {
    device_refuses(bombs::document_with_deflated_column(4096));
}
