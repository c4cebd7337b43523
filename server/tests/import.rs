//! Moving a SQLite deployment to PostgreSQL (`waystation-server db import-sqlite`, issue 14): a
//! server's devices sync on with the server now on PostgreSQL, with their cursors, tokens and
//! the generation unchanged, and nothing is sent again.
//!
//! Needs PostgreSQL (`WAYSTATION_TEST_PG`); fails without it.

mod common;

use common::*;
use std::sync::Arc;
use waystation_core::FixedClock;
use waystation_server::store::postgres::import_sqlite;
use waystation_server::store::postgres::scratch::ScratchDb;
use waystation_server::{Admin, Role, ServerConfig};

fn serve(db: &std::path::Path) -> waystation_server::ServerHandle {
    waystation_server::spawn_config_on_thread(ServerConfig {
        clock: Arc::new(FixedClock::new(noon())),
        ..ServerConfig::new(db, "127.0.0.1:0".parse().unwrap())
    })
    .expect("server starts")
}

#[test]
fn a_server_moved_from_sqlite_to_postgres_syncs_on_with_its_devices_and_nothing_is_sent_again() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = dir.path().join("server.sqlite3");
    let admin = Admin::open(&sqlite)
        .unwrap()
        .with_clock(Arc::new(FixedClock::new(noon())));
    let f = Factory::new();
    let (report, photo) = f.report_with_photo("rider-1");
    let id = format!("report:{report}");
    let doc = f.report_doc(&report);
    let district = district_of(&doc);
    let rider_token = admin
        .add_user("rider-1", Role::Rider, &[], chrono::Duration::days(30))
        .unwrap();
    let sup_token = admin
        .add_user(
            "sup-1",
            Role::Supervisor,
            std::slice::from_ref(&district),
            chrono::Duration::days(30),
        )
        .unwrap();
    drop(admin);

    // On SQLite: the rider's report and photo arrive, the supervisor fetches the report.
    let before = serve(&sqlite);
    let mut rider = Device::new(Api::new(&before.url(), &rider_token));
    let mut sup = Device::new(Api::new(&before.url(), &sup_token));
    let sha = sha256_hex(&photo);
    let put = rider.api.put(&format!("/v1/photos/{sha}"), photo.clone());
    assert_eq!(put.status().as_u16(), 201);
    rider.put(&id, "report", doc);
    rider.sync();
    sup.sync();
    assert!(
        !sup.heads(&id).is_empty(),
        "the supervisor holds the report"
    );
    let generation = sup.sync().last().unwrap().generation.clone();
    let (rider_cursor, sup_cursor) = (rider.cursor, sup.cursor);
    before.shutdown();

    // The move.
    let pg = ScratchDb::create("import").unwrap_or_else(|e| panic!("{e}"));
    let done = import_sqlite(&sqlite, pg.url()).unwrap();
    assert!(done.rows > 5 && done.feed_position >= 1, "{done:?}");
    // Only into an empty database.
    let again = import_sqlite(&sqlite, pg.url()).unwrap_err();
    assert!(again.to_string().contains("empty database"), "{again}");

    // On PostgreSQL: the same tokens, the same cursors, nothing sent or listed again.
    let after = serve(std::path::Path::new(pg.url()));
    rider.api = rider.api.on_server(&after.url());
    sup.api = sup.api.on_server(&after.url());
    for (name, device, cursor) in [
        ("rider", &mut rider, rider_cursor),
        ("supervisor", &mut sup, sup_cursor),
    ] {
        let responses = device.sync();
        assert_eq!(responses.len(), 1, "{name}: one round trip");
        let r = &responses[0];
        assert!(r.docs.is_empty(), "{name}: nothing sent again");
        assert!(r.changed.is_empty(), "{name}: nothing listed again");
        assert!(!r.reset, "{name}: the feed was not reset");
        assert_eq!(r.generation, generation, "{name}: same generation");
        assert_eq!(r.cursor, cursor, "{name}: the cursor stands");
    }
    // The photo's bytes came along.
    let got = sup.api.get(&format!("/v1/photos/{sha}"));
    assert_eq!(got.status().as_u16(), 200);
    assert_eq!(got.bytes().unwrap().to_vec(), photo);

    // The feed continues: a new report reaches the supervisor.
    let (second, _) = f.report_with_photo("rider-1");
    let second_id = format!("report:{second}");
    rider.put(&second_id, "report", f.report_doc(&second));
    rider.sync();
    let listed: Vec<String> = sup
        .sync()
        .iter()
        .flat_map(|r| r.changed.iter().map(|c| c.doc_id.clone()))
        .collect();
    assert_eq!(listed, vec![second_id]);
    after.shutdown();
}
