//! Where and as whom to sync, and how hard to retry: [`SyncSettings`] and [`RetryPolicy`].
//!
//! Plain `http://` is accepted only for a server on this machine (`127.0.0.0/8`, `::1`,
//! `localhost`): a rider's phone on public Wi-Fi sits behind captive portals and shared access
//! points, where anyone on the path could read the bearer token and change what the server
//! says. Every other server must be `https://`, unless the caller sets the loudly named
//! [`SyncSettings::allow_insecure_http`] (a test bench on a LAN, never a phone in the field).

use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use super::protocol::MAX_DOCS_PER_REQUEST;
use crate::error::{Error, Result};

/// Where and as whom to sync.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncSettings {
    /// The server's base URL, e.g. `https://sync.example.org` (no trailing `/v1`).
    pub server: String,
    /// The bearer token an administrator issued for this user.
    pub token: String,
    /// Retries of one request that got no answer or a 5xx/429.
    pub retry: RetryPolicy,
    /// Time limit of one HTTP request (connect, send and read together); 30 s by default. It
    /// travels in each request ([`super::HttpRequest::timeout`]), whatever the transport.
    pub timeout: Duration,
    /// Most documents in one request, 1..=[`MAX_DOCS_PER_REQUEST`] (the server's limit).
    pub max_docs_per_request: usize,
    /// Allows `http://` to a server that is not on this machine. Off by default: the token and
    /// every reply would cross the network in clear text, readable and changeable by anyone on
    /// the path (a captive portal, a shared access point). Only for a test bench.
    pub allow_insecure_http: bool,
}

impl SyncSettings {
    /// Settings with the default retry policy. The URL must be `https://`, or `http://` to a
    /// server on this machine (`127.0.0.0/8`, `[::1]`, `localhost`).
    pub fn new(server: &str, token: &str) -> Result<SyncSettings> {
        Self::build(server, token, false)
    }

    /// Like [`Self::new`], but also accepts `http://` to any host
    /// ([`Self::allow_insecure_http`]). The token and all data then travel in clear text.
    pub fn new_allowing_insecure_http(server: &str, token: &str) -> Result<SyncSettings> {
        Self::build(server, token, true)
    }

    fn build(server: &str, token: &str, allow_insecure_http: bool) -> Result<SyncSettings> {
        let server = server.trim().trim_end_matches('/').to_string();
        let token = token.trim().to_string();
        if token.is_empty() || token.len() > 512 || !token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Error::invalid(
                "token must be the non-empty printable token an administrator issued",
            ));
        }
        let settings = SyncSettings {
            server,
            token,
            retry: RetryPolicy::default(),
            timeout: super::transport::DEFAULT_REQUEST_TIMEOUT,
            max_docs_per_request: MAX_DOCS_PER_REQUEST,
            allow_insecure_http,
        };
        settings.check_server()?;
        Ok(settings)
    }

    /// Checks the server URL: `https://`, or `http://` only to this machine unless
    /// [`Self::allow_insecure_http`]. Every sync call checks it again, since the fields are
    /// public.
    pub fn check_server(&self) -> Result<()> {
        let shown = || self.server.chars().take(100).collect::<String>();
        let rest = if let Some(rest) = self.server.strip_prefix("https://") {
            rest
        } else if let Some(rest) = self.server.strip_prefix("http://") {
            rest
        } else {
            return Err(Error::invalid(format!(
                "server URL '{}' must start with https:// (or http:// for a server on this \
                 machine)",
                shown()
            )));
        };
        if rest.is_empty() || self.server.len() > 2000 {
            return Err(Error::invalid(format!(
                "server URL '{}' has no host",
                shown()
            )));
        }
        if self.server.starts_with("http://") && !self.allow_insecure_http && !is_loopback(rest) {
            return Err(Error::invalid(format!(
                "server URL '{}' uses plain http:// to another machine: the token and every \
                 report would cross the network unencrypted; use https:// (http:// is only for \
                 127.0.0.1, [::1] or localhost)",
                shown()
            )));
        }
        Ok(())
    }
}

/// Whether the authority at the start of `rest` (what follows `http://`) names this machine.
///
/// Deliberately strict: the authority may hold only letters, digits, `.`, `-`, `:`, `[` and
/// `]`, so user info (`127.0.0.1@evil.example`), backslashes, percent-escapes and whitespace,
/// which URL parsers read in surprising ways, never pass as loopback.
fn is_loopback(rest: &str) -> bool {
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    if authority.is_empty()
        || !authority
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
    {
        return false;
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        match v6.split_once(']') {
            Some((host, port)) => (host, port),
            None => return false,
        }
    } else {
        match authority.find(':') {
            Some(i) => authority.split_at(i),
            None => (authority, ""),
        }
    };
    let port_ok = match port.strip_prefix(':') {
        Some(p) => !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()),
        None => port.is_empty(),
    };
    if !port_ok {
        return false;
    }
    if authority.starts_with('[') {
        return host.parse::<Ipv6Addr>().is_ok_and(|ip| {
            ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        });
    }
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
}

/// Exponential backoff with full jitter for requests that got no answer, a 5xx or a 429.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries per request, at least 1.
    pub attempts: u32,
    /// The first delay's upper bound; each retry doubles it.
    pub base_delay: Duration,
    /// The largest delay.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 4,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
        }
    }
}

impl RetryPolicy {
    /// The delay before retry number `retry` (1-based): uniformly random in
    /// `[0, min(max_delay, base_delay * 2^(retry-1))]`.
    pub fn delay(&self, retry: u32) -> Duration {
        let cap = self
            .base_delay
            .saturating_mul(1u32 << retry.saturating_sub(1).min(20))
            .min(self.max_delay);
        let mut b = [0u8; 8];
        let r = match getrandom::fill(&mut b) {
            Ok(()) => u64::from_le_bytes(b),
            Err(_) => 0,
        };
        let frac = (r >> 11) as f64 / (1u64 << 53) as f64;
        cap.mul_f64(frac)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_bounded_and_jittered() {
        let p = RetryPolicy {
            attempts: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(250),
        };
        for retry in 1..10 {
            let cap = Duration::from_millis(100 * (1 << (retry - 1).min(20))).min(p.max_delay);
            for _ in 0..20 {
                assert!(p.delay(retry) <= cap);
            }
        }
        let spread: std::collections::HashSet<_> = (0..20).map(|_| p.delay(3)).collect();
        assert!(spread.len() > 1, "no jitter");
    }

    #[test]
    fn settings_are_checked() {
        assert!(SyncSettings::new("http://127.0.0.1:8080/", "wst_x").is_ok());
        assert_eq!(
            SyncSettings::new("http://127.0.0.1:8080/", "t")
                .unwrap()
                .server,
            "http://127.0.0.1:8080"
        );
        assert!(SyncSettings::new("ftp://x.org", "t").is_err());
        assert!(SyncSettings::new("https://", "t").is_err());
        assert!(SyncSettings::new("http://127.0.0.1", "").is_err());
        assert!(SyncSettings::new("http://127.0.0.1", "a b").is_err());
    }

    #[test]
    fn plain_http_is_only_for_this_machine() {
        for ok in [
            "http://127.0.0.1:8080",
            "http://127.1.2.3",
            "http://localhost:9000/",
            "http://LOCALHOST",
            "http://[::1]:8080",
            "http://[::ffff:127.0.0.1]:80",
            "https://sync.example.org",
            "https://10.0.0.5:8443",
        ] {
            assert!(SyncSettings::new(ok, "t").is_ok(), "{ok}");
        }
        for bad in [
            "http://sync.example.org",
            "http://10.0.0.5:8080",
            "http://192.168.1.1",
            "http://[::2]:80",
            "http://127.0.0.1@evil.example",
            "http://127.0.0.1:80@evil.example",
            "http://evil.example#@127.0.0.1",
            "http://127.0.0.1\\@evil.example",
            "http://localhost.evil.example",
            "http://%6c%6fcalhost",
            "http://127.0.0.1:80:80",
            "http://127.0.0.1:http",
            "http://0x7f.1",
            "http://[::1",
        ] {
            let err = SyncSettings::new(bad, "t").unwrap_err().to_string();
            assert!(err.contains("https://"), "{bad}: {err}");
        }
        let err = SyncSettings::new("http://sync.example.org", "t")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unencrypted"), "{err}");
        // The loudly named opt-in.
        let s = SyncSettings::new_allowing_insecure_http("http://10.0.0.5:8080", "t").unwrap();
        assert!(s.allow_insecure_http);
        // The public fields are checked again at use.
        let mut s = SyncSettings::new("https://sync.example.org", "t").unwrap();
        s.server = "http://sync.example.org".into();
        assert!(s.check_server().is_err());
        s.allow_insecure_http = true;
        assert!(s.check_server().is_ok());
    }
}
