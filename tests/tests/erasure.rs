//! Erasure end to end (PIPL art. 47, decision 0009): real devices and a real
//! `waystation-server` on loopback, every clock fixed.
//!
//! A rider reports a hazard with a photo and does a lesson; station staff and a supervisor
//! follow the case up. The admin erases the rider. Then: the rider's phone gets `401`; the
//! server's database file holds the rider's id nowhere (documents, history, tables, freed
//! pages, the write-ahead log); the follow-up devices replace their copies at their next sync
//! and keep the hazard, its place, its photo and its case history, attributed to no one; a
//! device that syncs a change built on the old history cannot bring it back; and the case goes
//! on on the new history.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use waystation_core::reports::erasure::ERASED_USER;
use waystation_core::reports::{CaseEventKind, CaseRole, ReportPatch, ReportRules};
use waystation_core::store::documents;
use waystation_core::sync::{ReqwestTransport, RetryPolicy, SyncSettings};
use waystation_core::{Error, FixedClock, Options, Waystation};
use waystation_server::{Role, ServerConfig};
use waystation_tests::net::Net;
use waystation_tests::reports::{draft_at, noon};

const YANTA: &str = "610113";
const LAT: f64 = 34.2225;
const LON: f64 = 108.9480;
const RIDER: &str = "rider-1";

struct Device {
    _dir: tempfile::TempDir,
    ws: Waystation,
    clock: Arc<FixedClock>,
    settings: SyncSettings,
}

impl Device {
    fn new(net: &Net, token: &str) -> Device {
        let dir = tempfile::tempdir().unwrap();
        let config = Options {
            trusted_keys: waystation_tests::trusted(),
            ..Options::default()
        };
        let clock = Arc::new(FixedClock::new(noon()));
        let ws = Waystation::open_with_clock(dir.path(), config, clock.clone()).unwrap();
        let mut settings = SyncSettings::new(&net.url(), token).unwrap();
        settings.retry = RetryPolicy {
            attempts: 2,
            base_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(50),
        };
        Device {
            _dir: dir,
            ws,
            clock,
            settings,
        }
    }

    /// Moves this device's clock to `minutes` after noon.
    fn at(&self, minutes: i64) -> &Self {
        self.clock.set(noon() + chrono::Duration::minutes(minutes));
        self
    }

    fn try_sync(&self) -> Result<waystation_core::sync::SyncReport, Error> {
        let http = ReqwestTransport::new(None).unwrap();
        self.ws.sync().run(
            &self.settings,
            &http,
            &waystation_core::CancelToken::never(),
        )
    }

    fn sync(&self) {
        let r = self.try_sync().unwrap();
        assert!(r.complete, "{r:?}");
    }

    /// Every string and actor in this device's copy of `doc_id`, with its whole history.
    fn history_names(&self, doc_id: &str, user: &str) -> bool {
        let mut doc = documents::load(&self.ws.store().read(), doc_id)
            .unwrap()
            .unwrap();
        waystation_core::reports::erasure::names_user(&doc, user).unwrap()
            || doc.get_changes(&[]).len() > 3
    }
}

/// Whether `needle` appears anywhere in the server's database file or its write-ahead log.
fn server_files_contain(db: &Path, needle: &[u8]) -> bool {
    waystation_tests::net::ServerDb::at(db).holds(needle)
}

fn erase(net: &Net, user: &str, at: DateTime<Utc>) -> waystation_server::erasure::Erasure {
    waystation_server::erasure::erase_user(&net.db, user, at).unwrap()
}

#[test]
fn an_erased_rider_is_attributed_nowhere_and_devices_adopt_the_rewrite() {
    // Later than every event the devices write, which must not lie in its future.
    let net = Net::start_with(|c| ServerConfig {
        clock: Arc::new(FixedClock::new(noon() + chrono::Duration::hours(3))),
        ..c
    });
    let rider_t = net.user_at(RIDER, Role::Rider, &[], noon());
    let staff_t = net.user_at("staff-1", Role::Station, &[YANTA], noon());
    let sup_t = net.user_at("sup-1", Role::Supervisor, &[YANTA], noon());
    let rider = Device::new(&net, &rider_t);
    let staff = Device::new(&net, &staff_t);
    let sup = Device::new(&net, &sup_t);

    // The rider: a report with a photo, and a lesson done.
    let id = draft_at(&rider.ws, RIDER, "food.seal", LAT, LON);
    rider
        .ws
        .reports()
        .update_draft(
            &id,
            &ReportPatch {
                district: Some(YANTA.into()),
                ..Default::default()
            },
        )
        .unwrap();
    let photo = rider
        .ws
        .reports()
        .attach_photo(
            &id,
            &waystation_tests::jpeg_with_metadata(60),
            &ReportRules::default(),
        )
        .unwrap();
    rider
        .ws
        .reports()
        .submit(RIDER, &id, &ReportRules::default())
        .unwrap();
    rider
        .ws
        .packs()
        .import_training(&waystation_tests::sign_training(
            &waystation_tests::real_training_payload(),
        ))
        .unwrap();
    rider
        .ws
        .training()
        .complete_lesson(RIDER, "food-safety-delivery/seals")
        .unwrap();
    rider.sync();

    // Follow-up: staff acknowledge, the supervisor notes.
    staff.sync();
    staff
        .at(10)
        .ws
        .cases()
        .record(
            &id,
            "staff-1",
            CaseRole::StationStaff,
            CaseEventKind::Acknowledge,
            "",
        )
        .unwrap();
    staff.sync();
    sup.sync();
    sup.at(20)
        .ws
        .cases()
        .record(
            &id,
            "sup-1",
            CaseRole::Supervisor,
            CaseEventKind::Note,
            "已到现场",
        )
        .unwrap();
    sup.sync();
    staff.sync();
    let report_doc = format!("report:{id}");
    let case_doc = format!("case:{id}");
    assert!(staff.ws.reports().get(&id).unwrap().author == RIDER);
    assert!(server_files_contain(&net.db, RIDER.as_bytes()));

    // Before it syncs again, the supervisor writes on the old history.
    sup.at(30)
        .ws
        .cases()
        .record(
            &id,
            "sup-1",
            CaseRole::Supervisor,
            CaseEventKind::Note,
            "复查",
        )
        .unwrap();

    let done = erase(&net, RIDER, noon() + chrono::Duration::hours(1));
    assert_eq!((done.reports, done.cases, done.progress), (1, 1, true));
    assert!(done.tokens >= 1);

    // The rider's phone is signed out for good.
    match rider.try_sync() {
        Err(Error::Unauthorized(_)) => {}
        other => panic!("expected 401, got {other:?}"),
    }
    // Nothing on the server names the rider: no row, no document, no history, no freed page.
    assert!(
        !server_files_contain(&net.db, RIDER.as_bytes()),
        "the server's files still hold the erased user id"
    );

    // The staff device replaces its copies at its next sync.
    staff.sync();
    let report = staff.ws.reports().get(&id).unwrap();
    assert_eq!(report.author, ERASED_USER);
    assert_eq!(report.district.as_deref(), Some(YANTA));
    assert_eq!(report.photos[0].sha256, photo.sha256);
    // Its photo is still there for the follow-up accounts: the server still serves it.
    let http = ReqwestTransport::new(None).unwrap();
    let path = staff
        .ws
        .reports()
        .fetch_photo(
            &staff.settings,
            &http,
            &photo.sha256,
            &waystation_core::CancelToken::never(),
        )
        .unwrap();
    assert!(path.is_file());
    assert!((report.position.unwrap().lat - LAT).abs() < 1e-9);
    let case = staff.ws.cases().get(&id).unwrap();
    let actors: Vec<(&str, &str)> = case
        .timeline
        .iter()
        .map(|t| (t.event.actor.as_str(), t.event.kind.name()))
        .collect();
    assert_eq!(actors, [("staff-1", "acknowledge"), ("sup-1", "note")]);
    assert!(!staff.history_names(&report_doc, RIDER));
    assert!(!staff.history_names(&case_doc, RIDER));

    // The supervisor's change on the old history is refused, its copy replaced: the erased
    // history does not come back through it.
    sup.sync();
    assert_eq!(sup.ws.reports().get(&id).unwrap().author, ERASED_USER);
    assert!(!sup.history_names(&report_doc, RIDER));
    assert!(!sup.history_names(&case_doc, RIDER));
    // The note it wrote offline on the old history is written again on the new one and sent.
    let notes: Vec<Option<String>> = sup
        .ws
        .cases()
        .get(&id)
        .unwrap()
        .timeline
        .into_iter()
        .map(|t| t.event.note)
        .collect();
    assert_eq!(
        notes,
        [None, Some("已到现场".into()), Some("复查".into())],
        "nothing the supervisor wrote is lost"
    );
    assert_eq!(sup.ws.sync().status().unwrap().pending_documents, 0);
    assert!(!server_files_contain(&net.db, RIDER.as_bytes()));

    // The case goes on, on the new history, and reaches every follow-up device.
    sup.at(40)
        .ws
        .cases()
        .record(
            &id,
            "sup-1",
            CaseRole::Supervisor,
            CaseEventKind::Resolve,
            "已整改",
        )
        .unwrap();
    let r = sup.try_sync().unwrap();
    assert!(r.complete && r.refused.is_empty(), "{r:?}");
    staff.sync();
    let kinds: Vec<&str> = staff
        .ws
        .cases()
        .get(&id)
        .unwrap()
        .timeline
        .iter()
        .map(|t| t.event.kind.name())
        .collect();
    assert_eq!(kinds, ["acknowledge", "note", "note", "resolve"]);
    assert_eq!(
        staff.ws.sync().status().unwrap().pending_documents,
        0,
        "nothing left pending"
    );

    // A second erasure, of the staff account, rewrites the case again; devices adopt it too.
    erase(&net, "staff-1", noon() + chrono::Duration::hours(2));
    sup.sync();
    let actors: Vec<String> = sup
        .ws
        .cases()
        .get(&id)
        .unwrap()
        .timeline
        .into_iter()
        .map(|t| t.event.actor)
        .collect();
    assert_eq!(actors, [ERASED_USER, "sup-1", "sup-1", "sup-1"]);
    assert!(!server_files_contain(&net.db, b"staff-1"));
}
