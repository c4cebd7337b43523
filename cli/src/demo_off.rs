//! `waystation demo` in a build without the `demo` feature: the command is there, so that
//! `waystation demo` and `waystation --help` say how to get it instead of "unrecognised
//! subcommand", but the sync server it runs is not linked (`cli/Cargo.toml`).

use anyhow::{Result, bail};
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Keep the server database and the three devices' data directories here (default: a
    /// temporary directory, removed at the end).
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,
}

/// Refuses, naming the feature and the command that has it.
pub fn run(_args: &DemoArgs) -> Result<()> {
    bail!(
        "this waystation was built without the demo, which runs the sync server in-process; \
         run it with `cargo run -p waystation-cli --features demo -- demo`"
    )
}
