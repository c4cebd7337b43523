//! Running the server: binding, TLS, the serving task or thread, and stopping it.

use axum_server::tls_rustls::RustlsConfig;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use waystation_core::{Clock, SystemClock};

use crate::error::ServerError;
use crate::limit::{DEFAULT_REQUESTS_PER_MINUTE, RateLimit};
use crate::{db, http};

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
    /// slow but moving upload on a poor connection completes. [`ServerConfig::new`] sets
    /// [`DEFAULT_BODY_IDLE_TIMEOUT`].
    pub body_idle_timeout: Duration,
}

/// The default [`ServerConfig::body_idle_timeout`]: 30 s.
pub const DEFAULT_BODY_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("db_path", &self.db_path)
            .field("listen", &self.listen)
            .field("tls", &self.tls)
            .field("requests_per_minute", &self.requests_per_minute)
            .field("body_idle_timeout", &self.body_idle_timeout)
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
    stop: watch::Sender<Stop>,
    thread: Option<std::thread::JoinHandle<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl ServerHandle {
    /// The address the server listens on (with the real port when port 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
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
    let (addr, tls, server) = start(config, stopped).await?;
    let task = tokio::spawn(server);
    Ok(ServerHandle {
        addr,
        tls,
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
        impl std::future::Future<Output = ()> + Send + 'static,
    ),
    ServerError,
> {
    let db_path = config.db_path.clone();
    let db = tokio::task::spawn_blocking(move || db::Db::open(&db_path))
        .await
        .map_err(|e| ServerError::Runtime(e.to_string()))??;
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
        db: Arc::new(db),
        clock: config.clock.clone(),
        limit: config
            .requests_per_minute
            .map(|n| Arc::new(RateLimit::new(n))),
        body_idle_timeout: config.body_idle_timeout,
    });
    let handle = axum_server::Handle::new();
    let bind_err = |source| ServerError::Bind {
        addr: config.listen,
        source,
    };
    let is_tls = tls.is_some();
    let server: std::pin::Pin<Box<dyn std::future::Future<Output = std::io::Result<()>> + Send>> =
        match tls {
            None => {
                let mut s = axum_server::from_tcp(listener).map_err(bind_err)?;
                // Headers that stall as long as a body may are dropped too (a slowloris).
                s.http_builder()
                    .http1()
                    .header_read_timeout(config.body_idle_timeout);
                Box::pin(s.handle(handle.clone()).serve(app.into_make_service()))
            }
            Some(tls) => {
                let mut s = axum_server::from_tcp_rustls(listener, tls).map_err(bind_err)?;
                s.http_builder()
                    .http1()
                    .header_read_timeout(config.body_idle_timeout);
                Box::pin(s.handle(handle.clone()).serve(app.into_make_service()))
            }
        };
    Ok((addr, is_tls, run_until_stopped(server, handle, stopped)))
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
                    Ok((addr, tls, server)) => {
                        let _ = ready_tx.send(Ok((addr, tls)));
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
    let (addr, tls) = match ready_rx.recv() {
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
        stop,
        thread: Some(thread),
        task: None,
    })
}
