//! The network between the test devices and a real server on loopback.
//!
//! [`Net`] is a real `waystation-server` on 127.0.0.1 with its own database, for the
//! end-to-end tests (sync, hostile server, erasure, crafted input). [`HoldingProxy`] is a TCP
//! proxy in front of a server that can hold the server's answers back: a slow server, for the
//! cancellation tests, without any change to the server.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use waystation_core::FixedClock;
use waystation_core::sync::{RetryPolicy, SyncSettings};
use waystation_server::store::postgres::scratch::{self, ScratchDb};
use waystation_server::{Role, ServerConfig, ServerHandle};

/// A real server on loopback and its database.
pub struct Net {
    _dir: tempfile::TempDir,
    /// The server's database.
    pub db: PathBuf,
    /// The running server; `None` while killed.
    pub server: Option<ServerHandle>,
    /// Where it listens (kept across restarts).
    pub addr: SocketAddr,
    /// The server's PostgreSQL database when the run asks for one
    /// (`WAYSTATION_TEST_STORE=postgres`, see `scratch::test_database`); dropped last.
    pg: Option<ScratchDb>,
}

impl Net {
    /// A server with the default configuration (and the default rate limit).
    pub fn start() -> Net {
        Net::start_with(|c| c)
    }

    /// A server whose accounts may each send `per_minute` requests a minute (`None`: no limit).
    pub fn start_with_limit(per_minute: Option<NonZeroU32>) -> Net {
        Net::start_with(|c| ServerConfig {
            requests_per_minute: per_minute,
            ..c
        })
    }

    /// A server with the configuration `configure` makes of the default one (a fixed clock,
    /// another limit).
    pub fn start_with(configure: impl FnOnce(ServerConfig) -> ServerConfig) -> Net {
        let dir = tempfile::tempdir().expect("temporary directory");
        let (db, pg) = scratch::test_database(dir.path(), "server.db");
        let config = configure(ServerConfig::new(
            &db,
            "127.0.0.1:0".parse().expect("address"),
        ));
        let server = waystation_server::spawn_config_on_thread(config).expect("server starts");
        let addr = server.addr();
        Net {
            _dir: dir,
            db,
            server: Some(server),
            addr,
            pg,
        }
    }

    /// A server on `addr`, retried while the port is still being released.
    pub fn start_on(addr: SocketAddr) -> Net {
        let dir = tempfile::tempdir().expect("temporary directory");
        let (db, pg) = scratch::test_database(dir.path(), "server.db");
        let server = spawn_retrying(&db, addr);
        let addr = server.addr();
        Net {
            _dir: dir,
            db,
            server: Some(server),
            addr,
            pg,
        }
    }

    /// The server's base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A new account's token (valid 30 days by the system clock).
    pub fn user(&self, name: &str, role: Role, areas: &[&str]) -> String {
        let areas: Vec<String> = areas.iter().map(|s| s.to_string()).collect();
        waystation_server::add_user(&self.db, name, role, &areas, chrono::Duration::days(30))
            .expect("add user")
    }

    /// A new account's token, issued at `now` (for servers on a fixed clock).
    pub fn user_at(&self, name: &str, role: Role, areas: &[&str], now: DateTime<Utc>) -> String {
        let areas: Vec<String> = areas.iter().map(|s| s.to_string()).collect();
        waystation_server::Admin::open(&self.db)
            .expect("admin")
            .with_clock(Arc::new(FixedClock::new(now)))
            .add_user(name, role, &areas, chrono::Duration::days(30))
            .expect("add user")
    }

    /// Settings for this server with quick retries (2 attempts, tens of milliseconds apart).
    pub fn settings(&self, token: &str) -> SyncSettings {
        let mut s = SyncSettings::new(&self.url(), token).expect("settings");
        s.retry = RetryPolicy {
            attempts: 2,
            base_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(50),
        };
        s
    }

    /// Stops the server (the database stays).
    pub fn kill(&mut self) {
        if let Some(s) = self.server.take() {
            s.kill();
        }
    }

    /// Starts the server again on the same address (default configuration), so devices keep
    /// their settings.
    pub fn restart(&mut self) {
        self.kill();
        self.server = Some(spawn_retrying(&self.db, self.addr));
    }

    /// The one number `sql` selects from the server's database.
    pub fn count(&self, sql: &str) -> i64 {
        if let Some(pg) = &self.pg {
            return pg.query_i64(sql).expect("count");
        }
        rusqlite::Connection::open(&self.db)
            .expect("server database")
            .query_row(sql, [], |r| r.get(0))
            .expect("count")
    }

    /// Documents of `kind` on the server.
    pub fn server_docs(&self, kind: &str) -> i64 {
        if self.pg.is_some() {
            return self.count(&format!(
                "SELECT COUNT(*) FROM docs WHERE kind = '{}'",
                kind.replace('\'', "''")
            ));
        }
        let conn = rusqlite::Connection::open(&self.db).expect("server database");
        conn.query_row("SELECT COUNT(*) FROM docs WHERE kind = ?1", [kind], |r| {
            r.get(0)
        })
        .expect("count")
    }

    /// Photos on the server.
    pub fn server_photos(&self) -> i64 {
        self.count("SELECT count(*) FROM photos")
    }

    /// The server's database, for a test to change behind the server's back on either store.
    pub fn server_db(&self) -> ServerDb {
        ServerDb::at(&self.db)
    }

    /// A consistent copy of the server's database, as a nightly backup would take.
    pub fn backup(&self, name: &str) -> PathBuf {
        if let Some(pg) = &self.pg {
            // The documented PostgreSQL backup (server/README.md).
            let to = self._dir.path().join(name);
            pg.dump_to(&to).expect("pg_dump");
            return to;
        }
        let to = self.db.with_file_name(name);
        rusqlite::Connection::open(&self.db)
            .expect("server database")
            .execute("VACUUM INTO ?1", [to.to_str().expect("UTF-8 path")])
            .expect("backup");
        to
    }

    /// The server's disk is lost: it comes back on the same address from `backup`.
    pub fn restore(&mut self, backup: &Path) {
        self.kill();
        if let Some(pg) = &self.pg {
            pg.restore_from(backup).expect("pg_restore");
            self.restart();
            return;
        }
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.db.display()));
        }
        std::fs::copy(backup, &self.db).expect("restore");
        self.restart();
    }
}

/// A server's database on either store, reached the way a test reaches it: the SQLite file
/// with rusqlite, the PostgreSQL database with its own connection. Cheap to clone and `Send`,
/// so a transport hook can hold one. What it does is written once for both stores, so the
/// end-to-end tests that use it run on either (`WAYSTATION_TEST_STORE`).
#[derive(Clone, Debug)]
pub enum ServerDb {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL URL.
    Postgres(String),
}

impl ServerDb {
    /// The database `db` names (a `postgres://` URL or a file), as `ServerConfig::db_path`.
    pub fn at(db: &Path) -> ServerDb {
        match db.to_str().filter(|d| waystation_server::store::is_url(d)) {
            Some(url) => ServerDb::Postgres(url.to_string()),
            None => ServerDb::Sqlite(db.to_path_buf()),
        }
    }

    /// Runs `sql`, which both engines must understand (`DELETE FROM photos`).
    pub fn execute(&self, sql: &str) {
        match self {
            ServerDb::Sqlite(file) => {
                rusqlite::Connection::open(file)
                    .expect("server database")
                    .execute_batch(sql)
                    .expect("statement runs");
            }
            ServerDb::Postgres(url) => scratch::execute(url, sql).expect("statement runs"),
        }
    }

    /// The server loses every photo it holds (a disk restored under it).
    pub fn lose_photos(&self) {
        self.execute("DELETE FROM photos");
    }

    /// Replaces the bytes of the lesson image `sha256` (a server serving other bytes than
    /// the hash names); `false` when it holds no such image.
    pub fn corrupt_training_image(&self, sha256: &str, bytes: &[u8]) -> bool {
        let changed = match self {
            ServerDb::Sqlite(file) => rusqlite::Connection::open(file)
                .expect("server database")
                .execute(
                    "UPDATE training_images SET bytes = ?1 WHERE sha256 = ?2",
                    rusqlite::params![bytes, sha256],
                )
                .expect("update runs") as u64,
            ServerDb::Postgres(url) => scratch::update_bytes(
                url,
                "UPDATE training_images SET bytes = $1 WHERE sha256 = $2",
                bytes,
                sha256,
            )
            .expect("update runs"),
        };
        changed > 0
    }

    /// Whether the server's database still holds `needle` (an erased account's id). On SQLite
    /// every byte of the file and its write-ahead log, freed pages included; on PostgreSQL
    /// every text and `bytea` column of every live row (its data files are the database
    /// server's, and old row versions go at `VACUUM FULL`, server/README.md).
    pub fn holds(&self, needle: &[u8]) -> bool {
        match self {
            ServerDb::Sqlite(db) => {
                let mut wal = db.as_os_str().to_owned();
                wal.push("-wal");
                [db.to_path_buf(), PathBuf::from(wal)].iter().any(|p| {
                    std::fs::read(p)
                        .map(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
                        .unwrap_or(false)
                })
            }
            ServerDb::Postgres(url) => scratch::rows_contain(url, needle).expect("rows searched"),
        }
    }
}

fn spawn_retrying(db: &Path, addr: SocketAddr) -> ServerHandle {
    let mut last = None;
    for _ in 0..50 {
        match waystation_server::spawn_on_thread(db, addr) {
            Ok(s) => return s,
            Err(e) => last = Some(e),
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("server did not start on {addr}: {last:?}");
}

#[derive(Default)]
struct Gate {
    holding: AtomicBool,
    /// Requests that reached the proxy while it was holding.
    held: AtomicUsize,
    changed: Mutex<()>,
    cv: Condvar,
}

/// A TCP proxy on 127.0.0.1 in front of `upstream`. While holding ([`Self::hold`]), it reads
/// each request and passes it on, but keeps the answer back until [`Self::release`]: to the
/// device, the server is as slow as the test wants.
pub struct HoldingProxy {
    addr: SocketAddr,
    gate: Arc<Gate>,
}

impl HoldingProxy {
    /// Starts the proxy (not holding).
    pub fn start(upstream: SocketAddr) -> HoldingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let addr = listener.local_addr().expect("proxy address");
        let gate = Arc::new(Gate::default());
        let g = gate.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                let g = g.clone();
                std::thread::spawn(move || relay(client, upstream, g));
            }
        });
        HoldingProxy { addr, gate }
    }

    /// The proxy's URL, for the device's settings.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// From now on, answers are held back.
    pub fn hold(&self) {
        self.gate.holding.store(true, Ordering::SeqCst);
    }

    /// Answers flow again, the held ones first.
    pub fn release(&self) {
        let _guard = self.gate.changed.lock().unwrap();
        self.gate.holding.store(false, Ordering::SeqCst);
        self.gate.cv.notify_all();
    }

    /// Waits until a request reached the proxy while it was holding (up to `timeout`);
    /// returns whether one did.
    pub fn wait_for_held_request(&self, timeout: Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        let mut guard = self.gate.changed.lock().unwrap();
        while self.gate.held.load(Ordering::SeqCst) == 0 {
            let now = std::time::Instant::now();
            if now >= deadline {
                return false;
            }
            guard = self.gate.cv.wait_timeout(guard, deadline - now).unwrap().0;
        }
        true
    }
}

fn relay(client: TcpStream, upstream: SocketAddr, gate: Arc<Gate>) {
    let Ok(server) = TcpStream::connect(upstream) else {
        return;
    };
    let (Ok(mut client_in), Ok(mut server_out)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    let up_gate = gate.clone();
    // Device → server, as it comes; noting a request that arrives while holding.
    let up = std::thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        loop {
            match client_in.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if up_gate.holding.load(Ordering::SeqCst) {
                        let _guard = up_gate.changed.lock().unwrap();
                        up_gate.held.fetch_add(1, Ordering::SeqCst);
                        up_gate.cv.notify_all();
                    }
                    if server_out.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            }
        }
        let _ = server_out.shutdown(Shutdown::Write);
    });
    // Server → device, held back while the gate holds.
    let (mut server_in, mut client_out) = (server, client);
    let mut buf = [0u8; 16 * 1024];
    loop {
        match server_in.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                {
                    let mut guard = gate.changed.lock().unwrap();
                    while gate.holding.load(Ordering::SeqCst) {
                        guard = gate.cv.wait(guard).unwrap();
                    }
                }
                if client_out.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = client_out.shutdown(Shutdown::Both);
    let _ = up.join();
}
