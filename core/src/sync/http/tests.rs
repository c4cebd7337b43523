use super::*;

#[test]
fn retry_after_reads_seconds_and_http_dates() {
    let now = DateTime::parse_from_rfc3339("2026-11-29T08:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let resp = |value: Option<&str>| HttpResponse {
        status: 429,
        headers: value
            .map(|v| vec![HttpHeader::new("Retry-After", v)])
            .unwrap_or_default(),
        body: Vec::new(),
    };
    let secs = |v: &str| retry_after(&resp(Some(v)), now);
    assert_eq!(secs("7"), Some(Duration::from_secs(7)));
    assert_eq!(secs(" 0 "), Some(Duration::ZERO));
    assert_eq!(
        secs("Sun, 29 Nov 2026 08:00:30 GMT"),
        Some(Duration::from_secs(30))
    );
    // A date already past is no wait; what cannot be read is ignored.
    assert_eq!(secs("Sun, 29 Nov 2026 07:59:00 GMT"), Some(Duration::ZERO));
    for bad in ["soon", "-5", "1.5", ""] {
        assert_eq!(secs(bad), None, "{bad}");
    }
    assert_eq!(retry_after(&resp(None), now), None);
}

#[test]
fn only_an_answer_naming_the_photo_proves_it_stored() {
    let sha = "ab".repeat(32);
    let resp = |headers: &[(&str, &str)]| HttpResponse {
        status: 200,
        headers: headers
            .iter()
            .map(|(n, v)| HttpHeader::new(*n, *v))
            .collect(),
        body: b"<html>login</html>".to_vec(),
    };
    let etag = format!("\"{sha}\"");
    assert!(
        photo_proof(
            &resp(&[("X-Waystation-Protocol", "1"), ("ETag", &etag)]),
            &sha
        )
        .is_ok()
    );
    // A captive portal's 200, a proxy that passes an ETag but not the protocol, another
    // photo's ETag, a weak or unquoted one.
    assert!(photo_proof(&resp(&[]), &sha).is_err());
    assert!(photo_proof(&resp(&[("ETag", &etag)]), &sha).is_err());
    let other = format!("\"{}\"", "cd".repeat(32));
    assert!(
        photo_proof(
            &resp(&[("x-waystation-protocol", "1"), ("etag", &other)]),
            &sha
        )
        .is_err()
    );
    for bad in [format!("W/{etag}"), sha.clone()] {
        assert!(
            photo_proof(
                &resp(&[("x-waystation-protocol", "1"), ("etag", &bad)]),
                &sha
            )
            .is_err()
        );
    }
    assert!(
        photo_proof(
            &resp(&[("x-waystation-protocol", "2"), ("etag", &etag)]),
            &sha
        )
        .is_err()
    );
}

#[test]
fn a_login_page_in_place_of_a_sync_answer_is_named() {
    let body = protocol::encode(&SyncResponse::default());
    let resp = |ct: &str| HttpResponse {
        status: 200,
        headers: vec![HttpHeader::new("Content-Type", ct)],
        body: body.clone(),
    };
    decode_cbor::<SyncResponse>(&resp("application/cbor"), "x").unwrap();
    decode_cbor::<SyncResponse>(&resp("Application/CBOR; charset=binary"), "x").unwrap();
    for ct in ["text/html; charset=utf-8", "application/json", ""] {
        let Err(Error::Server { message, .. }) = decode_cbor::<SyncResponse>(&resp(ct), "x") else {
            panic!("{ct}")
        };
        assert!(message.contains("not CBOR"), "{message}");
    }
}

#[test]
fn every_request_carries_the_settings_timeout() {
    struct Unreachable;
    impl HttpTransport for Unreachable {
        fn send(
            &self,
            _: HttpRequest,
            _: &CancelToken,
        ) -> std::result::Result<HttpResponse, TransportError> {
            Err(TransportError::Connect("offline".into()))
        }
    }
    let mut settings = SyncSettings::new("https://sync.example.org", "wst_t").unwrap();
    assert_eq!(settings.timeout, Duration::from_secs(30));
    settings.timeout = Duration::from_millis(4321);
    let cancel = CancelToken::never();
    let client = Client::new(&settings, &Unreachable, &cancel);
    for (method, body) in [("GET", vec![]), ("POST", vec![1]), ("PUT", vec![2])] {
        let req = client.request(method, "/v1/x", body);
        assert_eq!(req.timeout(), Duration::from_millis(4321), "{method}");
    }
}

#[test]
fn error_text_from_the_network_is_bounded_and_printable() {
    let resp = HttpResponse {
        status: 502,
        headers: Vec::new(),
        body: [b"bad\x1b[31m gateway\n".as_slice(), &[b'x'; 5000]].concat(),
    };
    let Error::Server { message, .. } = status_error(&resp, "sync") else {
        panic!()
    };
    assert!(message.len() < 300, "{message}");
    assert!(!message.chars().any(char::is_control), "{message}");
}

/// A transport that answers every request with `answer`, whatever it was asked.
struct Answers(std::result::Result<HttpResponse, TransportError>);

impl HttpTransport for Answers {
    fn send(
        &self,
        _: HttpRequest,
        _: &CancelToken,
    ) -> std::result::Result<HttpResponse, TransportError> {
        self.0.clone()
    }
}

/// What `Client::send` makes of `answer` to a `GET /v1/me` with one attempt.
fn outcome(answer: std::result::Result<HttpResponse, TransportError>) -> Result<HttpResponse> {
    let mut settings = SyncSettings::new("https://sync.example.org", "wst_t").unwrap();
    settings.retry.attempts = 1;
    let cancel = CancelToken::never();
    let transport = Answers(answer);
    let client = Client::new(&settings, &transport, &cancel);
    let req = client.request("GET", "/v1/me?x=secret", Vec::new());
    client.send(req, 10, &mut SyncReport::default())
}

fn response(status: i32, body: &[u8]) -> HttpResponse {
    HttpResponse {
        status,
        headers: Vec::new(),
        body: body.to_vec(),
    }
}

/// An app's transport may return anything: a status that is no HTTP status, or a body
/// over the limit it was given. The device holds every transport to both.
#[test]
fn a_transport_that_breaks_the_contract_is_held_to_it() {
    for status in [0, 99, 600, -1, 70000] {
        match outcome(Ok(response(status, b""))) {
            Err(Error::Network(m)) => assert!(m.contains("not an HTTP status"), "{m}"),
            other => panic!("{status}: {other:?}"),
        }
    }
    match outcome(Ok(response(200, &[0; 11]))) {
        Err(Error::Server { message, .. }) => {
            assert!(message.contains("GET /v1/me is over 10 bytes"), "{message}");
            assert!(
                !message.contains("secret"),
                "the query stays out: {message}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(outcome(Ok(response(200, &[0; 10]))).unwrap().body.len(), 10);
    let limit = TransportError::TooLarge { limit: 3 };
    assert!(matches!(outcome(Err(limit)), Err(Error::Server { .. })));
}

/// An app's exception text ends up in the error and the log: bounded and printable.
#[test]
fn a_transport_error_text_is_bounded_and_printable() {
    let reason = format!("boom\n\x1b[31m{}", "x".repeat(5000));
    match outcome(Err(TransportError::Other(reason))) {
        Err(Error::Network(m)) => {
            assert!(m.len() < 400, "{m}");
            assert!(!m.chars().any(char::is_control), "{m}");
            assert!(m.contains("boom"), "{m}");
        }
        other => panic!("{other:?}"),
    }
}

/// The request's own view: its description leaves out host and query, its limits read
/// back as a duration and a length.
#[test]
fn a_request_describes_itself_without_host_or_query() {
    let mut req = HttpRequest {
        method: "GET".into(),
        url: "https://u:p@sync.example.org/v1/photos/ab?token=t#f".into(),
        headers: vec![HttpHeader::new("Authorization", "Bearer t")],
        body: Vec::new(),
        timeout_ms: 0,
        max_body_bytes: -5,
    };
    assert_eq!(req.describe(), "GET /v1/photos/ab");
    assert_eq!(req.header("authorization"), Some("Bearer t"));
    assert_eq!(req.timeout(), Duration::from_millis(1));
    assert_eq!(req.max_body(), 0);
    req.url = "https://sync.example.org".into();
    req.max_body_bytes = 1 << 20;
    assert_eq!(req.describe(), "GET /");
    assert_eq!(req.max_body(), 1 << 20);
}
