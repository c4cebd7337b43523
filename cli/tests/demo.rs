//! `waystation demo`: with the `demo` feature it runs the whole story against a real server on
//! loopback; without it (the device CLI, which does not link the server) it says how to get it.
//! `scripts/test-all.sh` runs this file both ways.

mod common;

use common::{fresh, waystation};

#[cfg(feature = "demo")]
#[test]
fn demo_runs_the_whole_story_and_converges() {
    let (_t, data) = fresh();
    let text = common::ok(&waystation(&data, &["demo"]));
    for needle in [
        "nearest open red station",
        "stored without EXIF",
        "syncs: 1 sent",
        "All three devices converged",
        "acknowledge",
        "dispatch",
        "note",
    ] {
        assert!(text.contains(needle), "'{needle}' missing from:\n{text}");
    }
}

#[cfg(not(feature = "demo"))]
#[test]
fn without_the_demo_feature_demo_says_how_to_get_it() {
    let (_t, data) = fresh();
    let out = waystation(&data, &["demo"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("built without the demo")
            && err.contains("cargo run -p waystation-cli --features demo -- demo"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}
