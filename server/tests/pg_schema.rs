//! The PostgreSQL store reads every column with a checked conversion: a column whose type is
//! not the one this build expects (a schema altered by hand) makes the request fail with an
//! error naming the column, never a panic of the thread serving it.
//!
//! Needs PostgreSQL (`WAYSTATION_TEST_PG`); fails without it.

mod common;

use common::*;
use std::sync::Arc;
use waystation_core::FixedClock;
use waystation_core::sync::protocol::SyncRequest;
use waystation_server::db::Db;
use waystation_server::store::postgres::scratch::ScratchDb;
use waystation_server::{Admin, Role, ServerConfig};

#[test]
fn a_column_of_another_type_is_an_error_naming_it_and_the_server_serves_on() {
    let pg = ScratchDb::create("coltype").unwrap_or_else(|e| panic!("{e}"));
    let db = std::path::PathBuf::from(pg.url());
    let token = Admin::open(&db)
        .unwrap()
        .with_clock(Arc::new(FixedClock::new(noon())))
        .add_user("rider-1", Role::Rider, &[], chrono::Duration::days(30))
        .unwrap();
    // Every request looks its token up, which reads users.scope_epoch as a bigint.
    pg.execute("ALTER TABLE users ALTER COLUMN scope_epoch TYPE integer")
        .unwrap();

    let err = Db::open(&db)
        .unwrap()
        .read()
        .unwrap()
        .scope_epoch("rider-1")
        .expect_err("an integer column read as a bigint");
    let message = err.to_string();
    assert!(message.contains("scope_epoch"), "{message}");
    assert!(message.contains("int4"), "{message}");

    let server = waystation_server::spawn_config_on_thread(ServerConfig {
        clock: Arc::new(FixedClock::new(noon())),
        ..ServerConfig::new(&db, "127.0.0.1:0".parse().unwrap())
    })
    .expect("server starts");
    let api = Api::new(&server.url(), &token);
    let empty = SyncRequest {
        cursor: 0,
        docs: vec![],
    };
    // Twice: a panic would have taken the blocking thread, and with it the answer.
    for _ in 0..2 {
        let failure = api.sync(&empty).expect_err("the token cannot be read");
        assert_eq!(failure.status.as_u16(), 500);
        assert_eq!(failure.body.code, "internal");
    }
    let health = http_client()
        .get(format!("{}/healthz", server.url()))
        .send()
        .unwrap();
    assert_eq!(health.status().as_u16(), 200);
}
