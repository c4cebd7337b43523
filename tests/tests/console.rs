//! The console's follow-up actions reach a real phone: a rider's device (waystation-core, its
//! built-in HTTP transport, a real data directory) submits a report with a photo to a real
//! server on loopback; a supervisor signs in to the console and acknowledges, dispatches and
//! resolves it with HTTP POSTs carrying the session cookie and the CSRF token, as a browser
//! does; the rider syncs and the phone shows the new status and each event, written by the
//! supervisor's account. On SQLite, or on PostgreSQL with `WAYSTATION_TEST_STORE=postgres`.

use std::sync::Arc;

use reqwest::StatusCode;
use reqwest::blocking::Client;
use waystation_core::reports::{CaseEventKind, CaseRole, CaseStatus};
use waystation_core::sync::ReqwestTransport;
use waystation_core::{CancelToken, FixedClock};
use waystation_server::{Role, ServerConfig};
use waystation_tests::net::Net;
use waystation_tests::reports::{noon, open_at, report_with_photo};

const YANTA: &str = "610113";

/// A browser signed in to the console: its session cookie, and a client that follows no
/// redirect so each answer is seen.
struct Console {
    base: String,
    http: Client,
    cookie: String,
}

impl Console {
    fn sign_in(base: &str, token: &str) -> Console {
        let http = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let r = http
            .post(format!("{base}/console/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("token={token}"))
            .send()
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let cookie = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("console_session="))
            .and_then(|c| c.split(';').next())
            .expect("a session cookie")
            .to_string();
        Console {
            base: base.to_string(),
            http,
            cookie,
        }
    }

    fn page(&self, path: &str) -> String {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .send()
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        r.text().unwrap()
    }

    /// Posts `action` on the case with the page's CSRF token and version.
    fn act(&self, report: &str, action: &str, extra: &str) -> StatusCode {
        let page = self.page(&format!("/console/cases/{report}"));
        let field = |name: &str| {
            let needle = format!("name=\"{name}\" value=\"");
            let start = page.find(&needle).expect("field on the page") + needle.len();
            page[start..start + page[start..].find('"').unwrap()].to_string()
        };
        let body = format!(
            "csrf={}&version={}&action={action}{extra}",
            field("csrf"),
            field("version")
        );
        self.http
            .post(format!("{}/console/cases/{report}/events", self.base))
            .header("cookie", &self.cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .unwrap()
            .status()
    }
}

#[test]
fn an_action_taken_in_the_console_appears_on_the_riders_phone_after_a_sync() {
    let net = Net::start_with(|c| ServerConfig {
        clock: Arc::new(FixedClock::new(noon())),
        ..c
    });
    let rider_token = net.user_at("rider-1", Role::Rider, &[], noon());
    let sup_token = net.user_at("sup-1", Role::Supervisor, &[YANTA], noon());
    let http = ReqwestTransport::new(None).unwrap();
    let never = CancelToken::never();

    // The rider's phone files a report with a photo and syncs it.
    let dir = tempfile::tempdir().unwrap();
    let (phone, _clock) = open_at(dir.path(), noon());
    let id = report_with_photo(&phone, "rider-1", 80);
    let settings = net.settings(&rider_token);
    let r = phone.sync().run(&settings, &http, &never).unwrap();
    assert!(r.complete, "{r:?}");
    assert_eq!(phone.cases().get(&id).unwrap().status, CaseStatus::Open);

    // The supervisor, at a desk: the case is on the list, its photo is served.
    let console = Console::sign_in(&net.url(), &sup_token);
    assert!(console.page("/console/cases").contains(&id));
    let case_page = console.page(&format!("/console/cases/{id}"));
    let photo = phone.reports().get(&id).unwrap().photos[0].sha256.clone();
    assert!(case_page.contains(&format!("/console/photos/{photo}")));

    assert_eq!(
        console.act(&id, "acknowledge", "&note=%E5%B7%B2%E5%8F%97%E7%90%86"),
        StatusCode::SEE_OTHER
    );
    // The rider syncs and sees it.
    let r = phone.sync().run(&settings, &http, &never).unwrap();
    assert!(r.complete && r.documents_received >= 1, "{r:?}");
    let case = phone.cases().get(&id).unwrap();
    assert_eq!(case.status, CaseStatus::Acknowledged);
    let e = &case.timeline[0].event;
    assert_eq!(e.actor, "sup-1");
    assert_eq!(e.role, CaseRole::Supervisor);
    assert_eq!(e.note.as_deref(), Some("已受理"));

    assert_eq!(
        console.act(&id, "dispatch", "&grid_id=grid-610113-03"),
        StatusCode::SEE_OTHER
    );
    assert_eq!(console.act(&id, "resolve", ""), StatusCode::SEE_OTHER);
    phone.sync().run(&settings, &http, &never).unwrap();
    let case = phone.cases().get(&id).unwrap();
    assert_eq!(case.status, CaseStatus::Resolved);
    assert_eq!(case.grid_id.as_deref(), Some("grid-610113-03"));
    assert!(matches!(
        case.timeline[1].event.kind,
        CaseEventKind::Dispatch { .. }
    ));
    assert!(
        case.timeline
            .iter()
            .all(|t| t.applied && t.event.actor == "sup-1")
    );
    // Nothing is left to send or refused on the phone.
    let status = phone.sync().status().unwrap();
    assert_eq!(status.pending_documents, 0);
    assert!(phone.sync().refusals().unwrap().is_empty());
}
