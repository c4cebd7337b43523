//! Helpers shared by the CLI test files: run the real `waystation` binary on a data directory
//! and check how it ended.

#![allow(dead_code)] // each test file uses its own subset

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn waystation_env(data_dir: &Path, args: &[&str], user_env: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_waystation"));
    cmd.arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("WAYSTATION_DATA_DIR")
        .env_remove("WAYSTATION_USER");
    if let Some(u) = user_env {
        cmd.env("WAYSTATION_USER", u);
    }
    cmd.output().expect("waystation runs")
}

pub fn waystation(data_dir: &Path, args: &[&str]) -> Output {
    waystation_env(data_dir, args, None)
}

pub fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

pub fn json(out: &Output) -> Value {
    serde_json::from_str(&ok(out)).unwrap()
}

pub fn fails_with(out: &Output, needle: &str) {
    assert!(
        !out.status.success(),
        "expected failure, got: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(needle), "expected '{needle}' in stderr: {err}");
    assert!(!err.contains("panicked"), "{err}");
}

pub fn fresh() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("data");
    (dir, d)
}
