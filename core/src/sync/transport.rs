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
}

/// Sends HTTP requests for sync. Implementations block until the response (or failure) and
/// must be safe to call from any thread.
pub trait HttpTransport: Send + Sync {
    /// Sends one request and returns the response, whatever its status.
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError>;
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
            .user_agent(concat!("waystation/", env!("CARGO_PKG_VERSION")));
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
        let body = resp.bytes().map_err(classify)?.to_vec();
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
