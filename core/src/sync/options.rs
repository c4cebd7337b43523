//! How a caller states where and as whom to sync: [`SyncOptions`], the one record the apps
//! (through the FFI) and the CLI fill in, checked here into [`SyncSettings`], and the choice
//! of transport that goes with it ([`SyncOptions::transport`]).

use std::sync::Arc;
use std::time::Duration;

use super::settings::SyncSettings;
use super::transport::HttpTransport;
use crate::error::{Error, Result};

/// Most tries of one request a caller may ask for.
pub const MAX_ATTEMPTS: i32 = 20;
/// Longest request timeout a caller may ask for, in milliseconds (10 minutes).
pub const MAX_TIMEOUT_MS: i64 = 600_000;

/// Where and as whom to sync, and how patiently. Only `server` and `token` are required.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct SyncOptions {
    /// The server's base URL, e.g. `https://sync.example.org`.
    pub server: String,
    /// The bearer token an administrator issued.
    pub token: String,
    /// Timeout of one HTTP request (connect, send and read) in milliseconds, 1..=600000; none
    /// is 30 seconds. Every transport gets it with the request.
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub timeout_ms: Option<i64>,
    /// Tries per request (backoff with jitter between), 1..=20; none is 4.
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub attempts: Option<i32>,
    /// Extra trusted CA certificates in PEM for the built-in transport; none trusts the
    /// platform's only. Refused with an app's `HttpTransport`: configure trust there.
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub extra_root_pem: Option<String>,
    /// Allows plain `http://` to a server off this device (the token would travel in clear
    /// text): keep it off on a phone. Loopback `http://` is always allowed.
    #[cfg_attr(feature = "uniffi", uniffi(default = false))]
    pub allow_insecure_http: bool,
}

impl SyncOptions {
    /// Options with every default: 30 s per request, 4 tries, the platform's CAs, `https://`
    /// (or loopback `http://`) only.
    pub fn new(server: &str, token: &str) -> SyncOptions {
        SyncOptions {
            server: server.to_string(),
            token: token.to_string(),
            timeout_ms: None,
            attempts: None,
            extra_root_pem: None,
            allow_insecure_http: false,
        }
    }

    /// The settings, every option checked: `InvalidInput` names the one that is wrong.
    pub fn settings(&self) -> Result<SyncSettings> {
        let (server, token) = (&self.server, &self.token);
        let mut s = match self.allow_insecure_http {
            true => SyncSettings::new_allowing_insecure_http(server, token)?,
            false => SyncSettings::new(server, token)?,
        };
        if let Some(n) = self.attempts {
            if !(1..=MAX_ATTEMPTS).contains(&n) {
                return Err(Error::invalid(format!(
                    "attempts must be 1..={MAX_ATTEMPTS}, got {n}"
                )));
            }
            s.retry.attempts = n.unsigned_abs();
        }
        s.timeout = match self.timeout_ms {
            None => s.timeout,
            Some(ms @ 1..=MAX_TIMEOUT_MS) => Duration::from_millis(ms.unsigned_abs()),
            Some(ms) => {
                return Err(Error::invalid(format!(
                    "timeout_ms must be 1..={MAX_TIMEOUT_MS}, got {ms}"
                )));
            }
        };
        Ok(s)
    }

    /// The transport for these options: the app's own `app` (which refuses `extra_root_pem`:
    /// trust is the platform's business there), or the built-in one with the options' extra
    /// CAs, or, in a build without it (a phone's), an error naming the fix.
    pub fn transport(&self, app: Option<Arc<dyn HttpTransport>>) -> Result<Arc<dyn HttpTransport>> {
        if let Some(app) = app {
            if self.extra_root_pem.is_some() {
                return Err(Error::invalid(
                    "extra_root_pem applies only to the built-in HTTP transport; with an \
                     HttpTransport, trust is configured in the platform's HTTP stack (Android's \
                     network security config, iOS's App Transport Security, the OkHttpClient or \
                     URLSession the app passes)",
                ));
            }
            return Ok(app);
        }
        self.builtin()
    }

    #[cfg(feature = "http")]
    fn builtin(&self) -> Result<Arc<dyn HttpTransport>> {
        let pem = self.extra_root_pem.as_deref().map(str::as_bytes);
        let transport = super::transport::ReqwestTransport::new(pem)
            .map_err(|e| Error::invalid(e.to_string()))?;
        Ok(Arc::new(transport))
    }

    #[cfg(not(feature = "http"))]
    fn builtin(&self) -> Result<Arc<dyn HttpTransport>> {
        Err(Error::invalid(
            "this library was built without the built-in HTTP transport; pass an HttpTransport \
             to Waystation.open (OkHttpTransport on Android, URLSessionTransport on iOS)",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cancel::CancelToken;
    use crate::sync::{HttpRequest, HttpResponse, TransportError};

    fn options() -> SyncOptions {
        SyncOptions::new("https://sync.example.org", "wst_t")
    }

    fn invalid(options: SyncOptions) -> String {
        match options.settings() {
            Err(Error::InvalidInput(reason)) => reason,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn defaults_and_bounds_of_every_option() {
        let s = options().settings().unwrap();
        assert_eq!((s.timeout, s.retry.attempts), (Duration::from_secs(30), 4));
        let o = SyncOptions {
            timeout_ms: Some(MAX_TIMEOUT_MS),
            attempts: Some(1),
            ..options()
        };
        let s = o.settings().unwrap();
        assert_eq!((s.timeout, s.retry.attempts), (Duration::from_secs(600), 1));
        for ms in [0, -1, MAX_TIMEOUT_MS + 1, i64::MIN] {
            let o = SyncOptions {
                timeout_ms: Some(ms),
                ..options()
            };
            assert!(
                invalid(o).starts_with("timeout_ms must be 1..=600000"),
                "{ms}"
            );
        }
        for n in [0, -3, 21, i32::MAX] {
            let o = SyncOptions {
                attempts: Some(n),
                ..options()
            };
            assert_eq!(invalid(o), format!("attempts must be 1..=20, got {n}"));
        }
        let o = SyncOptions::new("http://192.168.1.5:8080", "wst_t");
        assert!(invalid(o.clone()).contains("plain http://"));
        let o = SyncOptions {
            allow_insecure_http: true,
            ..o
        };
        assert!(o.settings().unwrap().allow_insecure_http);
    }

    struct App;

    impl HttpTransport for App {
        fn send(
            &self,
            _: HttpRequest,
            _: &CancelToken,
        ) -> std::result::Result<HttpResponse, TransportError> {
            Err(TransportError::Connect("the app's".into()))
        }
    }

    /// The app's transport when it gives one (without extra CAs, which are the platform's
    /// business then); otherwise the built-in one where it is compiled in, or, in a phone
    /// build (`cargo test -p waystation-core --no-default-features`), an error naming the fix.
    #[test]
    fn the_apps_transport_or_the_built_in_one() {
        let app: Arc<dyn HttpTransport> = Arc::new(App);
        let chosen = options().transport(Some(app.clone())).unwrap();
        assert!(Arc::ptr_eq(&chosen, &app));
        let with_pem = SyncOptions {
            extra_root_pem: Some("-----BEGIN CERTIFICATE-----".into()),
            ..options()
        };
        match with_pem.transport(Some(app)) {
            Err(Error::InvalidInput(r)) => assert!(r.starts_with("extra_root_pem applies only")),
            other => panic!("{:?}", other.err()),
        }
        let builtin = options().transport(None);
        #[cfg(feature = "http")]
        assert!(builtin.is_ok());
        #[cfg(not(feature = "http"))]
        match builtin {
            Err(Error::InvalidInput(r)) => assert!(r.contains("pass an HttpTransport"), "{r}"),
            other => panic!("{:?}", other.err()),
        }
    }
}
