//! The console's sign-in against a real server on loopback (on SQLite, or on PostgreSQL with
//! `WAYSTATION_TEST_STORE=postgres`): a bearer token exchanged for a session cookie with the
//! token API's own checks, the cookie's flags, CSRF and Origin on every POST, sign-out,
//! sessions that end with their token, their account or their 12 hours, riders kept out, and
//! the failed-login limit.

mod common;
mod console_support;

use chrono::Duration;
use common::*;
use console_support::*;
use reqwest::StatusCode;
use waystation_server::{Role, ServerConfig};

const YANTA: &str = "610113";

fn token(server: &TestServer, user: &str, role: Role, areas: &[&str]) -> String {
    server.user(user, role, areas).token
}

fn sessions(server: &TestServer) -> i64 {
    server.count("SELECT count(*) FROM console_sessions")
}

#[test]
fn a_token_is_exchanged_for_a_strict_session_cookie() {
    let server = TestServer::start();
    let t = token(&server, "grid-1", Role::Grid, &[YANTA]);
    let mut b = Browser::new(&server.url());

    // The sign-in page: Chinese first, a labelled password field, no session needed.
    let login = b.get("/console/login");
    assert_eq!(login.status, StatusCode::OK);
    assert!(
        login.body.contains("<html lang=\"zh-CN\">"),
        "{}",
        login.body
    );
    assert!(login.body.contains("<label for=\"token\">访问令牌</label>"));
    assert!(login.body.contains("type=\"password\""));
    let csp = login.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(login.headers["x-frame-options"], "DENY");
    assert_eq!(login.headers["cache-control"], "no-store");

    let answer = b.sign_in(&t);
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(answer.location(), Some("/console/cases"));
    let cookie = answer
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("console_session="))
        .expect("a session cookie");
    for flag in [
        "HttpOnly",
        "Secure",
        "SameSite=Strict",
        "Path=/console",
        "Max-Age=43200",
    ] {
        assert!(cookie.contains(flag), "{flag} missing: {cookie}");
    }
    // 32 random bytes, base64url; stored only as its SHA-256.
    let id = b.session.clone().unwrap();
    assert_eq!(id.len(), 43, "{id}");
    assert_eq!(sessions(&server), 1);
    let stored = server_bytes(
        &server.db,
        "SELECT session_hash FROM console_sessions WHERE user_id = ?1",
        "grid-1",
    )
    .unwrap();
    assert_eq!(hex(&stored), sha256_hex(id.as_bytes()));
    assert!(
        server_bytes(
            &server.db,
            "SELECT session_hash FROM console_sessions WHERE user_id = ?1",
            "grid-1"
        )
        .is_some_and(|h| h != id.as_bytes())
    );

    // Signed in: the cases page, with the account and the CSRF token of this session.
    let cases = b.get("/console/cases");
    assert_eq!(cases.status, StatusCode::OK, "{}", cases.body);
    assert!(cases.body.contains("grid-1"));
    assert_eq!(cases.csrf().len(), 43);
    // The sign-in page sends a signed-in browser on.
    assert_eq!(b.get("/console/login").location(), Some("/console/cases"));
    // English when the browser prefers it.
    b.accept_language = "en-US,en;q=0.9".into();
    let en = b.get("/console/cases");
    assert!(en.body.contains("<html lang=\"en\">"));
    assert!(en.body.contains("Cases"));
    // A choice made with ?lang= is remembered for the next pages.
    b.accept_language = "zh-CN".into();
    let chosen = b.get("/console/cases?lang=en");
    assert!(chosen.body.contains("<html lang=\"en\">"));
    assert!(
        chosen
            .set_cookies()
            .iter()
            .any(|c| c.starts_with("console_lang=en;") && c.contains("Path=/console")),
        "{:?}",
        chosen.set_cookies()
    );
    let remembered = b.get_with(
        "/console/cases",
        &[("cookie", "console_lang=en"), ("accept-language", "zh-CN")],
    );
    assert!(remembered.body.contains("<html lang=\"en\">"));
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn unknown_expired_revoked_and_empty_tokens_open_nothing() {
    let server = TestServer::start();
    let admin = server.admin();
    let good = token(&server, "sup-1", Role::Supervisor, &[YANTA]);
    let short = admin.issue_token("sup-1", Duration::hours(1)).unwrap();
    let revoked = admin.issue_token("sup-1", Duration::days(1)).unwrap();
    admin.revoke_token(&revoked).unwrap();
    server.clock.set(noon() + Duration::hours(2));

    let mut b = Browser::new(&server.url());
    b.accept_language = "en".into();
    for (t, why) in [
        ("wst_notatokenatall", "unknown token"),
        (short.as_str(), "expired"),
        (revoked.as_str(), "revoked"),
    ] {
        let page = b.sign_in(t);
        assert_eq!(page.status, StatusCode::UNAUTHORIZED, "{t}");
        assert!(page.body.contains("Sign-in failed"), "{}", page.body);
        assert!(page.body.contains(why), "{why}: {}", page.body);
        assert!(page.body.contains("role=\"alert\""));
        assert!(page.body.contains("aria-invalid=\"true\""));
        assert!(page.set_cookies().is_empty());
        assert!(!page.body.contains(t), "the token is not echoed back");
    }
    let empty = b.sign_in("  ");
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    assert_eq!(sessions(&server), 0);
    assert!(b.session.is_none());
    // The good token still works.
    Browser::signed_in(&server.url(), &good);
    assert_eq!(sessions(&server), 1);
}

#[test]
fn riders_have_no_console() {
    let server = TestServer::start();
    let t = token(&server, "rider-1", Role::Rider, &[]);
    let mut b = Browser::new(&server.url());
    let page = b.sign_in(&t);
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("骑手账号没有随访台"), "{}", page.body);
    assert!(page.set_cookies().is_empty());
    assert_eq!(sessions(&server), 0);
}

#[test]
fn without_a_session_pages_go_to_sign_in_and_data_gets_401() {
    let server = TestServer::start();
    let mut b = Browser::new(&server.url());
    for path in [
        "/console/cases",
        "/console",
        "/console/cases/0190a8a4-7c1e-7000-8000-000000000001",
    ] {
        let page = b.get(path);
        if path == "/console" {
            // The console's root goes to the cases, which go to sign-in.
            assert_eq!(page.location(), Some("/console/cases"));
            continue;
        }
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(page.location(), Some("/console/login"), "{path}");
    }
    let data = b.get_with("/console/cases", &[("accept", "application/json")]);
    assert_eq!(data.status, StatusCode::UNAUTHORIZED);
    let htmx = b.get_with("/console/cases", &[("hx-request", "true")]);
    assert_eq!(htmx.status, StatusCode::UNAUTHORIZED);
    assert_eq!(htmx.headers["hx-redirect"], "/console/login");
    // A made-up session is no session.
    b.session = Some("A".repeat(43));
    assert_eq!(b.get("/console/cases").location(), Some("/console/login"));
    // An unknown console path is an HTML 404, not the API's CBOR.
    let missing = b.get("/console/nowhere");
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.body.contains("<html"));
}

#[test]
fn a_post_without_the_sessions_csrf_token_or_from_another_origin_is_refused() {
    let server = TestServer::start();
    let t = token(&server, "staff-1", Role::Station, &[YANTA]);
    let b = Browser::signed_in(&server.url(), &t);
    let csrf = b.get("/console/cases").csrf();
    let host = server.url().trim_start_matches("http://").to_string();
    let same_origin = format!("http://{host}");

    for (fields, headers) in [
        (vec![], vec![]),
        (vec![("csrf", "wrong")], vec![]),
        (vec![("csrf", &csrf[..42])], vec![]),
        (
            vec![("csrf", csrf.as_str())],
            vec![("origin", "https://evil.example")],
        ),
        (vec![("csrf", csrf.as_str())], vec![("origin", "null")]),
        (
            vec![("csrf", csrf.as_str())],
            vec![("sec-fetch-site", "cross-site")],
        ),
    ] {
        let page = b.post_form_with("/console/logout", &fields, &headers);
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{fields:?} {headers:?}");
        assert!(page.body.contains("表单已过期或来源不明"), "{}", page.body);
    }
    // Nothing happened: the session still works.
    assert_eq!(sessions(&server), 1);
    assert_eq!(b.get("/console/cases").status, StatusCode::OK);
    // Another session's token is not this session's.
    let other = Browser::signed_in(&server.url(), &t);
    let other_csrf = other.get("/console/cases").csrf();
    assert_ne!(other_csrf, csrf);
    let page = b.post_form("/console/logout", &[("csrf", &other_csrf)]);
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    // The header form (htmx) and a same-origin Origin pass.
    let page = b.post_form_with(
        "/console/logout",
        &[],
        &[("x-csrf-token", &csrf), ("origin", &same_origin)],
    );
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    // A sign-in posted from another site is refused too (login CSRF).
    let mut c = Browser::new(&server.url());
    let page = c.post_form_with(
        "/console/login",
        &[("token", &t)],
        &[("origin", "https://evil.example")],
    );
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    c.session = session_of(&page);
    assert!(c.session.is_none());
}

#[test]
fn sign_out_deletes_the_session() {
    let server = TestServer::start();
    let t = token(&server, "admin", Role::Admin, &[]);
    let b = Browser::signed_in(&server.url(), &t);
    let csrf = b.get("/console/cases").csrf();
    let page = b.post_form("/console/logout", &[("csrf", &csrf)]);
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), Some("/console/login"));
    let cleared = page
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("console_session="))
        .unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    assert_eq!(sessions(&server), 0);
    // The old cookie, replayed, opens nothing.
    assert_eq!(b.get("/console/cases").location(), Some("/console/login"));
}

#[test]
fn a_session_ends_with_its_token_its_account_and_its_twelve_hours() {
    let server = TestServer::start();
    let admin = server.admin();
    let sup = token(&server, "sup-1", Role::Supervisor, &[YANTA]);
    let grid = token(&server, "grid-1", Role::Grid, &[YANTA]);
    let staff = token(&server, "staff-1", Role::Station, &[YANTA]);

    // Revoking the account's tokens ends its sessions at once, and removes them.
    let b = Browser::signed_in(&server.url(), &sup);
    assert_eq!(b.get("/console/cases").status, StatusCode::OK);
    admin.revoke_user_tokens("sup-1").unwrap();
    assert_eq!(b.get("/console/cases").location(), Some("/console/login"));
    assert_eq!(
        server.count("SELECT count(*) FROM console_sessions WHERE user_id = 'sup-1'"),
        0
    );

    // Erasing the account (PIPL art. 47) deletes its sessions.
    let g = Browser::signed_in(&server.url(), &grid);
    assert_eq!(
        server.count("SELECT count(*) FROM console_sessions WHERE user_id = 'grid-1'"),
        1
    );
    waystation_server::erasure::erase_user(&server.db, "grid-1", noon()).unwrap();
    assert_eq!(
        server.count("SELECT count(*) FROM console_sessions WHERE user_id = 'grid-1'"),
        0
    );
    assert_eq!(g.get("/console/cases").location(), Some("/console/login"));

    // Twelve hours after sign-in, not sliding: a request an hour before does not extend it.
    let s = Browser::signed_in(&server.url(), &staff);
    server.clock.set(noon() + Duration::hours(11));
    assert_eq!(s.get("/console/cases").status, StatusCode::OK);
    server.clock.set(noon() + Duration::hours(12));
    assert_eq!(s.get("/console/cases").location(), Some("/console/login"));

    // A token that expires sooner ends the session sooner.
    server.clock.set(noon());
    let soon = admin.issue_token("staff-1", Duration::hours(2)).unwrap();
    let mut c = Browser::new(&server.url());
    let page = c.sign_in(&soon);
    let cookie = page.set_cookies().join(" ");
    assert!(cookie.contains("Max-Age=7200"), "{cookie}");
    server.clock.set(noon() + Duration::hours(2));
    c.session = session_of(&page);
    assert_eq!(c.get("/console/cases").location(), Some("/console/login"));

    // A role change applies at the next request: a rider has no console.
    server.clock.set(noon());
    let s = Browser::signed_in(&server.url(), &staff);
    admin
        .update_user(
            "staff-1",
            &waystation_server::UserChange {
                role: Some(Role::Rider),
                areas: Some(vec![]),
            },
        )
        .unwrap();
    assert_eq!(s.get("/console/cases").status, StatusCode::FORBIDDEN);
}

#[test]
fn wrong_tokens_at_sign_in_count_against_the_address() {
    let server = TestServer::start_with(|c| ServerConfig {
        failed_logins_per_minute: std::num::NonZeroU32::new(3),
        ..c
    });
    let good = token(&server, "sup-1", Role::Supervisor, &[YANTA]);
    let mut b = Browser::new(&server.url());
    let mut statuses = Vec::new();
    for i in 0..6 {
        statuses.push(b.sign_in(&format!("wst_wrong{i}")).status.as_u16());
    }
    assert!(statuses.contains(&401), "{statuses:?}");
    assert_eq!(*statuses.last().unwrap(), 429, "{statuses:?}");
    // Limited: even the right token waits, and the answer is a page with Retry-After.
    let page = b.sign_in(&good);
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(page.body.contains("<html"), "{}", page.body);
    assert!(page.headers.contains_key("retry-after"));
    assert_eq!(sessions(&server), 0);
}
