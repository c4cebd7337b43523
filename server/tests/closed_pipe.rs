//! `waystation-server … | head -1`: an admin command whose reader stops early ends the way
//! `cat` does (SIGPIPE, a shell's exit status 141), never with a "failed printing to stdout"
//! panic (exit 101).

#![cfg(unix)]

use chrono::Duration;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use waystation_server::{Admin, Role};

#[test]
fn user_list_read_by_head_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.db");
    let admin = Admin::open(&db).unwrap();
    // Enough accounts that the listing is several times a pipe's 64 KiB buffer.
    for i in 0..1500 {
        admin
            .add_user(
                &format!("rider-{i:05}"),
                Role::Rider,
                &[],
                Duration::days(30),
            )
            .unwrap();
    }
    drop(admin);
    let mut child = Command::new(env!("CARGO_BIN_EXE_waystation-server"))
        .args(["user", "list", "--json", "--db"])
        .arg(&db)
        .env("WAYSTATION_TEST_NOW", "2026-11-30T04:00:00Z")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert_eq!(first.trim(), "[");
    drop(stdout);
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(13), "SIGPIPE; {status:?}: {stderr}");
    assert_eq!(stderr, "", "nothing on stderr");
}
