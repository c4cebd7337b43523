//! Running the server: binding, TLS, the serving task or thread, and stopping it.

use axum_server::accept::DefaultAcceptor;
use axum_server::tls_rustls::{RustlsAcceptor, RustlsConfig};
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use waystation_core::{Clock, SystemClock};

use crate::db::{DEFAULT_WRITE_QUEUE, WriteQueue};
use crate::error::ServerError;
use crate::idle::IdleAcceptor;
use crate::limit::{
    DEFAULT_FAILED_LOGINS_PER_MINUTE, DEFAULT_REQUESTS_PER_MINUTE, FailedLogins, RateLimit,
};
use crate::quota::{DEFAULT_QUOTAS, Quotas};
use crate::{db, http, quota};
use std::sync::atomic::{AtomicU64, Ordering};

/// How long a graceful shutdown lets requests in flight finish before closing connections.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A certificate chain and private key, both PEM files, for HTTPS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain, leaf first.
    pub cert_pem: PathBuf,
    /// The private key (PKCS#8, PKCS#1 or SEC1).
    pub key_pem: PathBuf,
}

/// How to run a server.
#[derive(Clone)]
pub struct ServerConfig {
    /// The SQLite database file (created and migrated when missing).
    pub db_path: PathBuf,
    /// Address to listen on; port 0 picks a free port (see [`ServerHandle::addr`]).
    pub listen: SocketAddr,
    /// Serve HTTPS with this certificate; `None` serves plain HTTP (behind a TLS proxy, or
    /// on loopback).
    pub tls: Option<TlsFiles>,
    /// The clock token expiry and timestamps are read from.
    pub clock: Arc<dyn Clock>,
    /// Requests per minute each account may send (also its burst), past which it is answered
    /// `429` with `Retry-After`; `None` turns the limit off. [`ServerConfig::new`] sets
    /// [`crate::limit::DEFAULT_REQUESTS_PER_MINUTE`].
    pub requests_per_minute: Option<NonZeroU32>,
    /// How long a request body may stall, no byte arriving, before the request is answered
    /// `408 timeout` and dropped. It bounds the time between parts, not the whole upload, so a
    /// slow but moving upload on a poor connection completes. The same time bounds headers:
    /// HTTP/1.1 headers that take longer, and any connection (HTTP/1.1 or HTTP/2) on which no
    /// request starts for that long, are closed (`idle`). [`ServerConfig::new`] sets
    /// [`DEFAULT_BODY_IDLE_TIMEOUT`].
    pub body_idle_timeout: Duration,
    /// Requests with a missing or bad token per minute from one address (also its burst),
    /// past which every request from it is answered `429 login_limited` for a while; `None`
    /// turns the limit off (behind a reverse proxy, where every client has its address).
    /// [`ServerConfig::new`] sets [`crate::limit::DEFAULT_FAILED_LOGINS_PER_MINUTE`].
    pub failed_logins_per_minute: Option<NonZeroU32>,
    /// Reverse proxies in front of the server (nginx on loopback): for requests from them,
    /// the failed-login limit counts the client address they append to `X-Forwarded-For`
    /// instead of their own. Empty by default: behind a proxy, name it, or every client counts
    /// as the proxy's one address.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// How writers queue for the database ([`WriteQueue`]); past it `503 busy`.
    pub write_queue: WriteQueue,
    /// Connections kept at most to a PostgreSQL database ([`crate::db::DEFAULT_DB_POOL`]);
    /// SQLite ignores it.
    pub db_pool: usize,
    /// What one account may store ([`Quotas`]).
    pub quotas: Quotas,
    /// How often the server sweeps photos no report links (`quota::sweep_unlinked_photos`),
    /// starting when it starts.
    pub photo_sweep_every: Duration,
}

/// The default [`ServerConfig::photo_sweep_every`]: hourly.
pub const DEFAULT_PHOTO_SWEEP_EVERY: Duration = Duration::from_secs(3600);

/// The default [`ServerConfig::body_idle_timeout`]: 30 s.
pub const DEFAULT_BODY_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field(
                "db_path",
                &crate::store::shown(&self.db_path.to_string_lossy()),
            )
            .field("listen", &self.listen)
            .field("tls", &self.tls)
            .field("requests_per_minute", &self.requests_per_minute)
            .field("body_idle_timeout", &self.body_idle_timeout)
            .field("failed_logins_per_minute", &self.failed_logins_per_minute)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("write_queue", &self.write_queue)
            .field("db_pool", &self.db_pool)
            .field("quotas", &self.quotas)
            .field("photo_sweep_every", &self.photo_sweep_every)
            .finish_non_exhaustive()
    }
}

impl ServerConfig {
    /// Plain HTTP on `listen` over the database at `db_path`, with the system clock.
    pub fn new(db_path: &Path, listen: SocketAddr) -> ServerConfig {
        ServerConfig {
            db_path: db_path.to_path_buf(),
            listen,
            tls: None,
            clock: Arc::new(SystemClock),
            requests_per_minute: NonZeroU32::new(DEFAULT_REQUESTS_PER_MINUTE),
            body_idle_timeout: DEFAULT_BODY_IDLE_TIMEOUT,
            failed_logins_per_minute: NonZeroU32::new(DEFAULT_FAILED_LOGINS_PER_MINUTE),
            trusted_proxies: Vec::new(),
            write_queue: DEFAULT_WRITE_QUEUE,
            db_pool: db::DEFAULT_DB_POOL,
            quotas: DEFAULT_QUOTAS,
            photo_sweep_every: DEFAULT_PHOTO_SWEEP_EVERY,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stop {
    Run,
    Graceful,
    Now,
}

/// A running server. Dropping it stops the server gracefully.
#[derive(Debug)]
pub struct ServerHandle {
    addr: SocketAddr,
    tls: bool,
    sweeps: Arc<AtomicU64>,
    stop: watch::Sender<Stop>,
    thread: Option<std::thread::JoinHandle<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl ServerHandle {
    /// The address the server listens on (with the real port when port 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many sweeps of unlinked photos have finished since the server started.
    pub fn photo_sweeps(&self) -> u64 {
        self.sweeps.load(Ordering::Acquire)
    }

    /// The base URL, e.g. `http://127.0.0.1:41234` (no trailing slash).
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// Stops accepting connections and lets requests in flight finish (at most
    /// [`SHUTDOWN_GRACE`]). A server from [`spawn_on_thread`] is stopped when this returns;
    /// one from [`serve`] is told to stop (await [`ServerHandle::stopped`] to wait).
    pub fn shutdown(mut self) {
        self.stop.send_replace(Stop::Graceful);
        self.join();
    }

    /// Stops at once, dropping connections mid-request, as a crash would (tests of
    /// interrupted syncs). Like [`ServerHandle::shutdown`] otherwise.
    pub fn kill(mut self) {
        self.stop.send_replace(Stop::Now);
        self.join();
    }

    /// Stops gracefully and waits for a server from [`serve`] to finish.
    pub async fn stopped(mut self) {
        self.stop.send_replace(Stop::Graceful);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        self.join();
    }

    fn join(&mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        if *self.stop.borrow() == Stop::Run {
            self.stop.send_replace(Stop::Graceful);
        }
        self.join();
    }
}

/// Loads the certificate chain and key into a rustls server configuration with the ring
/// provider, offering HTTP/2 and HTTP/1.1.
fn tls_config(files: &TlsFiles) -> Result<RustlsConfig, ServerError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_file_iter(&files.cert_pem)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| {
            ServerError::Tls(format!(
                "cannot read certificates from {}: {e}",
                files.cert_pem.display()
            ))
        })?;
    if certs.is_empty() {
        return Err(ServerError::Tls(format!(
            "{} holds no certificate",
            files.cert_pem.display()
        )));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key_pem).map_err(|e| {
        ServerError::Tls(format!(
            "cannot read a private key from {}: {e}",
            files.key_pem.display()
        ))
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ServerError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| ServerError::Tls(format!("certificate and key do not fit: {e}")))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(RustlsConfig::from_config(Arc::new(config)))
}

/// Opens the database, binds the address and starts serving on the current tokio runtime.
/// Returns once the server listens.
pub async fn serve(config: ServerConfig) -> Result<ServerHandle, ServerError> {
    let (stop, stopped) = watch::channel(Stop::Run);
    let (addr, tls, sweeps, server) = start(config, stopped).await?;
    let task = tokio::spawn(server);
    Ok(ServerHandle {
        addr,
        tls,
        sweeps,
        stop,
        thread: None,
        task: Some(task),
    })
}

/// Binds and builds the server future; the caller runs it.
async fn start(
    config: ServerConfig,
    stopped: watch::Receiver<Stop>,
) -> Result<
    (
        SocketAddr,
        bool,
        Arc<AtomicU64>,
        impl std::future::Future<Output = ()> + Send + 'static,
    ),
    ServerError,
> {
    let db_path = config.db_path.clone();
    let (queue, pool) = (config.write_queue, config.db_pool);
    let db = tokio::task::spawn_blocking(move || db::Db::open_with(&db_path, queue, pool))
        .await
        .map_err(|e| ServerError::Runtime(e.to_string()))??
        .with_quotas(config.quotas);
    let db = Arc::new(db);
    let tls = config.tls.as_ref().map(tls_config).transpose()?;
    let listener =
        std::net::TcpListener::bind(config.listen).map_err(|source| ServerError::Bind {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ServerError::Bind {
        addr: config.listen,
        source,
    })?;
    let app = http::router(http::AppState {
        db: db.clone(),
        clock: config.clock.clone(),
        limit: config
            .requests_per_minute
            .map(|n| Arc::new(RateLimit::new(n))),
        failed_logins: config
            .failed_logins_per_minute
            .map(|n| Arc::new(FailedLogins::new(n))),
        trusted_proxies: config.trusted_proxies.clone().into(),
        body_idle_timeout: config.body_idle_timeout,
    });
    // Handlers see the peer's address (the failed-login limit is per address).
    let app = app.into_make_service_with_connect_info::<SocketAddr>();
    let idle = config.body_idle_timeout;
    let handle = axum_server::Handle::new();
    let bind_err = |source| ServerError::Bind {
        addr: config.listen,
        source,
    };
    let is_tls = tls.is_some();
    let server: std::pin::Pin<Box<dyn std::future::Future<Output = std::io::Result<()>> + Send>> =
        match tls {
            None => {
                let mut s = axum_server::from_tcp(listener)
                    .map_err(bind_err)?
                    .acceptor(IdleAcceptor::new(DefaultAcceptor::new(), idle));
                // Headers that stall as long as a body may are dropped too (a slowloris);
                // HTTP/2 has no such timeout in hyper, so connections that start no request
                // for as long are closed (`idle`), whatever their protocol.
                s.http_builder().http1().header_read_timeout(idle);
                Box::pin(s.handle(handle.clone()).serve(app))
            }
            Some(tls) => {
                let acceptor = RustlsAcceptor::new(tls)
                    .acceptor(IdleAcceptor::new(DefaultAcceptor::new(), idle));
                let mut s = axum_server::from_tcp(listener)
                    .map_err(bind_err)?
                    .acceptor(acceptor);
                s.http_builder().http1().header_read_timeout(idle);
                Box::pin(s.handle(handle.clone()).serve(app))
            }
        };
    let sweeps = Arc::new(AtomicU64::new(0));
    let sweeper = sweep_photos(
        db,
        config.clock.clone(),
        config.quotas.unlinked_photo_grace,
        config.photo_sweep_every,
        sweeps.clone(),
    );
    let run = async move {
        tokio::select! {
            () = run_until_stopped(server, handle, stopped) => {}
            () = sweeper => {}
        }
    };
    Ok((addr, is_tls, sweeps, run))
}

/// Sweeps photos no report links, now and then every `every`, for as long as the server runs
/// (`quota::sweep_unlinked_photos`). A sweep that fails is logged and tried again next time.
async fn sweep_photos(
    db: Arc<db::Db>,
    clock: Arc<dyn Clock>,
    grace: chrono::Duration,
    every: Duration,
    sweeps: Arc<AtomicU64>,
) {
    let mut ticks = tokio::time::interval(every.max(Duration::from_millis(10)));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let (db, now) = (db.clone(), clock.now());
        let swept =
            tokio::task::spawn_blocking(move || quota::sweep_unlinked_photos(&db, grace, now))
                .await;
        match swept {
            Ok(Ok(s)) if s.uploads > 0 || s.photos > 0 => eprintln!(
                "waystation-server: forgot {} photo uploads no report linked for {} days; \
                 deleted {} photos",
                s.uploads,
                grace.num_days(),
                s.photos
            ),
            Ok(Ok(_)) => {}
            Ok(Err(e)) => eprintln!("waystation-server: photo sweep: {e}"),
            Err(e) => eprintln!("waystation-server: photo sweep: {e}"),
        }
        sweeps.fetch_add(1, Ordering::AcqRel);
    }
}

/// Runs the server until told to stop, then stops it the way it was told.
async fn run_until_stopped(
    mut server: std::pin::Pin<Box<dyn std::future::Future<Output = std::io::Result<()>> + Send>>,
    handle: axum_server::Handle<SocketAddr>,
    mut stopped: watch::Receiver<Stop>,
) {
    let report = |r: std::io::Result<()>| {
        if let Err(e) = r {
            eprintln!("waystation-server: server stopped: {e}");
        }
    };
    let how = tokio::select! {
        r = &mut server => return report(r),
        how = stopped.wait_for(|s| *s != Stop::Run) => how.map(|s| *s).unwrap_or(Stop::Graceful),
    };
    // The handle's stop signal only reaches a server that is waiting for it: repeat it until
    // the server has stopped.
    let deadline = tokio::time::Instant::now() + SHUTDOWN_GRACE + Duration::from_secs(1);
    loop {
        match how {
            Stop::Now => handle.shutdown(),
            _ => handle.graceful_shutdown(Some(SHUTDOWN_GRACE)),
        }
        match tokio::time::timeout(Duration::from_millis(50), &mut server).await {
            Ok(r) => return report(r),
            Err(_) if tokio::time::Instant::now() > deadline => return,
            Err(_) => {}
        }
    }
}

/// Starts a server on a thread of its own (with its own tokio runtime) and returns once it
/// listens: for tests and the device CLI's demo, which are not async.
pub fn spawn_on_thread(db_path: &Path, listen: SocketAddr) -> Result<ServerHandle, ServerError> {
    spawn_config_on_thread(ServerConfig::new(db_path, listen))
}

/// [`spawn_on_thread`] with a full configuration (TLS, an injected clock).
pub fn spawn_config_on_thread(config: ServerConfig) -> Result<ServerHandle, ServerError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("waystation-server")
        .enable_all()
        .build()
        .map_err(|e| ServerError::Runtime(format!("cannot start a tokio runtime: {e}")))?;
    let (stop, stopped) = watch::channel(Stop::Run);
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let thread = std::thread::Builder::new()
        .name("waystation-server".into())
        .spawn(move || {
            runtime.block_on(async move {
                match start(config, stopped).await {
                    Ok((addr, tls, sweeps, server)) => {
                        let _ = ready_tx.send(Ok((addr, tls, sweeps)));
                        server.await;
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                    }
                }
            });
            runtime.shutdown_timeout(SHUTDOWN_GRACE);
        })
        .map_err(|e| ServerError::Runtime(format!("cannot start the server thread: {e}")))?;
    let (addr, tls, sweeps) = match ready_rx.recv() {
        Ok(Ok(started)) => started,
        Ok(Err(e)) => {
            let _ = thread.join();
            return Err(e);
        }
        Err(_) => {
            let _ = thread.join();
            return Err(ServerError::Runtime("the server thread ended early".into()));
        }
    };
    Ok(ServerHandle {
        addr,
        tls,
        sweeps,
        stop,
        thread: Some(thread),
        task: None,
    })
}
