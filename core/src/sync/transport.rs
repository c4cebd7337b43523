//! How sync reaches the server: an [`HttpTransport`] trait, so a shell can later supply its
//! platform's HTTP stack (OkHttp, URLSession), and the built-in transport on reqwest with
//! rustls and the ring crypto provider (small on a phone).

#[cfg(feature = "http")]
use std::time::Duration;

/// One HTTP request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpRequest {
    /// `GET`, `PUT` or `POST`.
    pub method: String,
    /// Absolute URL.
    pub url: String,
    /// Header names and values.
    pub headers: Vec<(String, String)>,
    /// Body; empty for `GET`.
    pub body: Vec<u8>,
}

impl HttpRequest {
    /// The value of the first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }
}

/// One HTTP response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Header names and values.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The value of the first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Why a request got no HTTP response at all.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// No connection could be made (no network, refused, DNS, TLS handshake).
    #[error("cannot reach the server: {0}")]
    Connect(String),
    /// The request or the response took too long.
    #[error("the server did not answer in time: {0}")]
    Timeout(String),
    /// Anything else that went wrong on the way.
    #[error("HTTP transport failed: {0}")]
    Other(String),
    /// The response body was longer than the caller accepts; what arrived was dropped.
    #[error("the response to {what} is over {limit} bytes; it was not read")]
    TooLarge {
        /// What was asked, e.g. `POST /v1/sync`.
        what: String,
        /// The most bytes accepted.
        limit: usize,
    },
}

/// Sends HTTP requests for sync. Implementations block until the response (or failure) and
/// must be safe to call from any thread.
pub trait HttpTransport: Send + Sync {
    /// Sends one request and returns the response, whatever its status.
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError>;

    /// Like [`Self::send`], but a body over `max_body_bytes` is an error
    /// ([`TransportError::TooLarge`]). Sync always calls this: a server (or whatever answers
    /// in its place) must not make the phone hold an unbounded reply in memory.
    ///
    /// The default checks the length after [`Self::send`] returned the whole body, which a
    /// shell's own HTTP stack can only do; the built-in transport overrides it to stop
    /// reading at the limit, whatever `Content-Length` claims.
    fn send_limited(
        &self,
        request: HttpRequest,
        max_body_bytes: usize,
    ) -> Result<HttpResponse, TransportError> {
        let what = describe(&request);
        let resp = self.send(request)?;
        if resp.body.len() > max_body_bytes {
            return Err(TransportError::TooLarge {
                what,
                limit: max_body_bytes,
            });
        }
        Ok(resp)
    }
}

/// `METHOD /path` of a request, for errors (no host, no query: nothing personal).
fn describe(request: &HttpRequest) -> String {
    let path = request
        .url
        .split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
        .unwrap_or("/");
    let path = path.split(['?', '#']).next().unwrap_or(path);
    format!(
        "{} {}",
        request.method,
        path.chars().take(120).collect::<String>()
    )
}

/// The built-in transport: reqwest's blocking client with rustls (ring provider) and the
/// platform's certificate verifier.
#[cfg(feature = "http")]
#[derive(Debug)]
pub struct ReqwestTransport {
    client: reqwest::blocking::Client,
}

#[cfg(feature = "http")]
impl ReqwestTransport {
    /// A transport with a request `timeout` (connect, send and read together). `extra_root_pem`
    /// adds trusted CA certificates (a private deployment's), besides the platform's.
    pub fn new(
        timeout: Duration,
        extra_root_pem: Option<&[u8]>,
    ) -> Result<ReqwestTransport, TransportError> {
        // reqwest is built without a default crypto provider; ring keeps the library small.
        // Installing fails only when the process already has one, which is then used.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::blocking::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("waystation/", env!("CARGO_PKG_VERSION")))
            // The protocol has no redirects. A captive portal answers with one to its login
            // page; followed, its page would be read as the server's answer.
            .redirect(reqwest::redirect::Policy::none());
        if let Some(pem) = extra_root_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| TransportError::Other(format!("extra root certificates: {e}")))?;
            builder = builder.tls_certs_merge(certs);
        }
        let client = builder
            .build()
            .map_err(|e| TransportError::Other(format!("building the HTTP client: {e}")))?;
        Ok(ReqwestTransport { client })
    }
}

#[cfg(feature = "http")]
impl HttpTransport for ReqwestTransport {
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        self.send_limited(request, usize::MAX)
    }

    /// Reads the body as it streams in and stops past `max_body_bytes`. A `Content-Length`
    /// over the limit ends the request before any of the body is read; one under it is not
    /// believed, the count of bytes read is what counts.
    fn send_limited(
        &self,
        request: HttpRequest,
        max_body_bytes: usize,
    ) -> Result<HttpResponse, TransportError> {
        use std::io::Read;
        let what = describe(&request);
        let too_large = || TransportError::TooLarge {
            what: what.clone(),
            limit: max_body_bytes,
        };
        let method = reqwest::Method::from_bytes(request.method.as_bytes())
            .map_err(|e| TransportError::Other(format!("method '{}': {e}", request.method)))?;
        let mut req = self.client.request(method, &request.url);
        for (name, value) in &request.headers {
            req = req.header(name, value);
        }
        if !request.body.is_empty() {
            req = req.body(request.body);
        }
        let classify = |e: reqwest::Error| {
            if e.is_timeout() {
                TransportError::Timeout(e.to_string())
            } else if e.is_connect() {
                TransportError::Connect(format!("{e}: {}", source_chain(&e)))
            } else {
                TransportError::Other(format!("{e}: {}", source_chain(&e)))
            }
        };
        let resp = req.send().map_err(classify)?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .filter_map(|(n, v)| Some((n.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect();
        if resp
            .content_length()
            .is_some_and(|len| len > max_body_bytes as u64)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        let cap = (max_body_bytes as u64).saturating_add(1);
        resp.take(cap).read_to_end(&mut body).map_err(|e| {
            // reqwest wraps its own errors (a timeout, a reset) in the io::Error.
            let timed_out = e.kind() == std::io::ErrorKind::TimedOut
                || e.get_ref()
                    .and_then(|inner| inner.downcast_ref::<reqwest::Error>())
                    .is_some_and(reqwest::Error::is_timeout);
            if timed_out {
                TransportError::Timeout(format!("reading the response to {what}: {e}"))
            } else {
                TransportError::Other(format!("reading the response to {what}: {e}"))
            }
        })?;
        if body.len() > max_body_bytes {
            return Err(too_large());
        }
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}

#[cfg(feature = "http")]
fn source_chain(e: &dyn std::error::Error) -> String {
    let mut out = Vec::new();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push(s.to_string());
        cur = s.source();
    }
    out.join(": ")
}
