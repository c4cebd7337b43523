//! The admin's side of erasure and retention (PIPL art. 47, decision 0009), through the
//! `waystation-server` command as an operator runs it, with the test server's fixed clock
//! (`WAYSTATION_TEST_NOW`). The devices' side is in `tests/tests/erasure.rs`.

use std::process::{Command, Output};

use chrono::{DateTime, Duration, Utc};
use waystation_core::store::documents::root_str;
use waystation_server::Role;

mod common;
use common::*;

fn server_cmd(args: &[&str], now: DateTime<Utc>) -> Output {
    Command::new(env!("CARGO_BIN_EXE_waystation-server"))
        .args(args)
        .env("WAYSTATION_TEST_NOW", now.to_rfc3339())
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn user_erase_removes_the_account_and_its_name_and_the_name_stays_reserved() {
    let server = TestServer::start();
    let db = server.db.to_str().unwrap().to_string();
    let f = Factory::new();
    let report = f.report("rider-1", "food.seal");
    let report_id = format!("report:{report}");
    let district = district_of(&f.report_doc(&report));
    let rider_api = server.user("rider-1", Role::Rider, &[]);
    let mut rider = Device::new(
        rider_api.with_token(
            &server
                .admin()
                .issue_token("rider-1", Duration::days(1))
                .unwrap(),
        ),
    );
    rider.put(&report_id, "report", f.report_doc(&report));
    rider.put(
        "progress:rider-1",
        "training-progress",
        progress_doc("rider-1", 2),
    );
    let replies = rider.sync();
    assert!(replies[0].docs.iter().all(|d| d.refused.is_none()));
    let mut staff = Device::new(server.user("staff-1", Role::Station, &[&district]));
    staff.sync();
    assert_eq!(
        root_str(&staff.docs[&report_id].doc, "author").as_deref(),
        Some("rider-1")
    );

    let out = server_cmd(&["user", "erase", "--db", &db, "--name", "rider-1"], noon());
    assert!(out.status.success(), "{}", stderr(&out));
    let said = stderr(&out);
    assert!(
        said.contains("1 report(s)") && said.contains("training progress"),
        "{said}"
    );

    // The account, its tokens (both of them), its progress: gone; its report names no one.
    assert_eq!(
        server.count("SELECT count(*) FROM users WHERE user_id = 'rider-1'"),
        0
    );
    assert_eq!(
        server.count("SELECT count(*) FROM tokens WHERE user_id = 'rider-1'"),
        0
    );
    assert_eq!(
        server.count("SELECT count(*) FROM docs WHERE kind = 'training-progress'"),
        0
    );
    assert_eq!(
        server.count("SELECT count(*) FROM docs WHERE owner = 'erased' AND kind = 'report'"),
        1
    );
    assert_eq!(server.count("SELECT count(*) FROM replaced_docs"), 1);
    let r = rider_api.get("/v1/me");
    assert_eq!(r.status().as_u16(), 401);

    // The report reaches follow-up accounts as the new document, with its place, unattributed.
    let mut late = Device::new(server.user("staff-2", Role::Station, &[&district]));
    late.sync();
    let doc = &late.docs[&report_id].doc;
    assert_eq!(root_str(doc, "author").as_deref(), Some("erased"));
    assert_eq!(district_of(doc), district);

    // Erasing again: the account is unknown, and nothing changes.
    let out = server_cmd(&["user", "erase", "--db", &db, "--name", "rider-1"], noon());
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no account 'rider-1'"),
        "{}",
        stderr(&out)
    );
    // The tombstone is nobody's: it cannot be erased or made an account.
    let out = server_cmd(&["user", "erase", "--db", &db, "--name", "erased"], noon());
    assert_eq!(out.status.code(), Some(1));
    let out = server_cmd(
        &[
            "user", "add", "--db", &db, "--name", "erased", "--role", "station", "--area",
            &district,
        ],
        noon(),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("reserved"), "{}", stderr(&out));
}

#[test]
fn withdrawn_reports_are_purged_after_the_retention_period_with_their_photos() {
    let server = TestServer::start();
    let db = server.db.to_str().unwrap().to_string();
    let f = Factory::new();
    let (withdrawn, photo) = f.report_with_photo("rider-1");
    f.ws.reports()
        .withdraw("rider-1", &withdrawn, "已自行处理")
        .unwrap();
    let kept = f.report("rider-1", "road.hazard");
    let mut rider = Device::new(server.user("rider-1", Role::Rider, &[]));
    let sha = sha256_hex(&photo);
    assert_eq!(
        rider
            .api
            .put(&format!("/v1/photos/{sha}"), photo)
            .status()
            .as_u16(),
        201
    );
    for id in [&withdrawn, &kept] {
        rider.put(&format!("report:{id}"), "report", f.report_doc(id));
    }
    rider.sync();
    assert_eq!(
        server.count("SELECT count(*) FROM docs WHERE kind = 'report'"),
        2
    );
    let purge = |days_later: i64| {
        let out = server_cmd(
            &[
                "db",
                "purge-withdrawn",
                "--db",
                &db,
                "--older-than-days",
                "30",
            ],
            noon() + Duration::days(days_later),
        );
        assert!(out.status.success(), "{}", stderr(&out));
        stderr(&out)
    };

    // Withdrawn 29 days ago: within the retention period, kept.
    assert!(purge(29).contains("Purged 0 report(s)"));
    assert_eq!(
        server.count("SELECT count(*) FROM docs WHERE kind = 'report'"),
        2
    );
    // 31 days: purged with its photo; the report that was not withdrawn stays.
    let said = purge(31);
    assert!(
        said.contains("Purged 1 report(s)") && said.contains("1 photo(s)"),
        "{said}"
    );
    assert_eq!(
        server.count(&format!(
            "SELECT count(*) FROM docs WHERE doc_id = 'report:{withdrawn}'"
        )),
        0
    );
    assert_eq!(
        server.count(&format!(
            "SELECT count(*) FROM docs WHERE doc_id = 'report:{kept}'"
        )),
        1
    );
    assert_eq!(server.count("SELECT count(*) FROM photos"), 0);

    // A phone that offers the purged report again (a re-offer after a restore) is refused.
    let token = server
        .admin()
        .issue_token("rider-1", Duration::days(1))
        .unwrap();
    let mut again = Device::new(Api::new(&server.url(), &token));
    let id = format!("report:{withdrawn}");
    again.put(&id, "report", f.report_doc(&withdrawn));
    let replies = again.sync();
    let reason = replies[0].docs[0].refused.clone().unwrap_or_default();
    assert!(reason.contains("retention period"), "{reason}");
    assert_eq!(
        server.count(&format!("SELECT count(*) FROM docs WHERE doc_id = '{id}'")),
        0
    );
}

/// A PNG whose bytes (and so SHA-256) differ with `n`: bytes after IEND are ignored.
fn png_variant(n: u8) -> Vec<u8> {
    let mut png = png_1x1();
    png.extend(std::iter::repeat_n(n, usize::from(n) + 1));
    png
}

#[test]
fn a_purge_keeps_photos_uploaded_for_reports_still_on_their_way() {
    let server = TestServer::start();
    let db = server.db.to_str().unwrap().to_string();
    let f = Factory::new();
    let (withdrawn, photo) = f.report_with_photo("rider-1");
    f.ws.reports()
        .withdraw("rider-1", &withdrawn, "已自行处理")
        .unwrap();
    let mut rider = Device::new(server.user("rider-1", Role::Rider, &[]));
    let purged_sha = sha256_hex(&photo);
    assert_eq!(
        rider
            .api
            .put(&format!("/v1/photos/{purged_sha}"), photo)
            .status()
            .as_u16(),
        201
    );
    rider.put(
        &format!("report:{withdrawn}"),
        "report",
        f.report_doc(&withdrawn),
    );
    rider.sync();
    // A photo uploaded at noon (the server's clock) for a report the phone has not sent yet:
    // photos go before their report.
    let waiting = png_variant(5);
    let waiting_sha = sha256_hex(&waiting);
    let path = format!("/v1/photos/{waiting_sha}");
    assert_eq!(rider.api.put(&path, waiting).status().as_u16(), 201);
    let photo_count = |sha: &str| {
        server.count(&format!(
            "SELECT count(*) FROM photos WHERE sha256 = '{sha}'"
        ))
    };

    // An hour later, a purge with no retention: the withdrawn report goes with its photo; the
    // photo whose report is still on its way stays, and its uploader may still read it.
    let out = server_cmd(
        &[
            "db",
            "purge-withdrawn",
            "--db",
            &db,
            "--older-than-days",
            "0",
        ],
        noon() + Duration::hours(1),
    );
    let said = stderr(&out);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("Purged 1 report(s)") && said.contains("1 photo(s)"),
        "{said}"
    );
    assert_eq!(photo_count(&purged_sha), 0, "the purged report's photo");
    assert_eq!(photo_count(&waiting_sha), 1, "the photo an hour old");
    assert_eq!(rider.api.head(&path).status().as_u16(), 200);

    // Past the grace period (7 days by default), the sweep's rule applies in a purge too.
    let out = server_cmd(
        &[
            "db",
            "purge-withdrawn",
            "--db",
            &db,
            "--older-than-days",
            "0",
        ],
        noon() + Duration::days(8),
    );
    let said = stderr(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("Purged 0 report(s)"), "{said}");
    assert_eq!(
        photo_count(&waiting_sha),
        0,
        "the upload past its grace period"
    );
}

/// Long options (`--name`) in `text`, `--help` left out.
fn long_options(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (i, _) in text.match_indices("--") {
        let name: String = text[i + 2..]
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || *c == '-')
            .collect();
        if name.len() > 1 && name != "help" && !found.contains(&format!("--{name}")) {
            found.push(format!("--{name}"));
        }
    }
    found
}

/// `waystation-server <path> --help`, and the subcommands its `Commands:` section lists.
fn help_of(path: &[&str]) -> (String, Vec<String>) {
    let mut args = path.to_vec();
    args.push("--help");
    let out = server_cmd(&args, noon());
    assert!(out.status.success(), "{path:?} --help: {}", stderr(&out));
    let help = String::from_utf8(out.stdout).unwrap();
    let mut subcommands = Vec::new();
    let mut in_commands = false;
    for line in help.lines() {
        if line.starts_with("Commands:") {
            in_commands = true;
        } else if in_commands && line.starts_with("  ") {
            let name = line.split_whitespace().next().unwrap().to_string();
            if name != "help" {
                subcommands.push(name);
            }
        } else {
            in_commands = false;
        }
    }
    (help, subcommands)
}

/// The server README says what every command takes, and nothing it does not: each option of
/// `serve` is explained somewhere in it, and each admin command's rows in the "Admin commands"
/// table name exactly the options its `--help` lists (README and binary checked together, so
/// an option added to one and not the other fails here).
#[test]
fn the_server_readme_names_every_option_of_every_command() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    // Accepted for old scripts, hidden from --help, and documented as doing nothing.
    let hidden = ["--no-demo-key"];
    let (_, groups) = help_of(&[]);
    assert!(groups.contains(&"serve".to_string()), "{groups:?}");
    let mut commands: Vec<Vec<String>> = Vec::new();
    for group in &groups {
        let (_, subs) = help_of(&[group]);
        if subs.is_empty() {
            commands.push(vec![group.clone()]);
        }
        commands.extend(subs.into_iter().map(|s| vec![group.clone(), s]));
    }
    assert!(commands.len() >= 10, "{commands:?}");
    let mut problems = Vec::new();
    for command in &commands {
        let path: Vec<&str> = command.iter().map(String::as_str).collect();
        let (help, _) = help_of(&path);
        let options = long_options(&help);
        let name = command.join(" ");
        if name == "serve" {
            for o in &options {
                if !readme.contains(o.as_str()) {
                    problems.push(format!("serve {o} is not in the README"));
                }
            }
            continue;
        }
        let rows: String = readme
            .lines()
            .filter(|l| l.starts_with(&format!("| `{name} ")))
            .collect::<Vec<_>>()
            .join("\n");
        if rows.is_empty() {
            problems.push(format!("no row for '{name}' in the admin commands table"));
            continue;
        }
        for o in &options {
            if !rows.contains(o.as_str()) {
                problems.push(format!("'{name}' {o} is not in its README row"));
            }
        }
        for o in long_options(&rows) {
            if !options.contains(&o) && !hidden.contains(&o.as_str()) {
                problems.push(format!(
                    "the README row of '{name}' names {o}, which it lacks"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}
