//! Who is acting: the `--user` argument shared by the training and report commands.

use clap::Args;

/// The user when neither `--user` nor `$WAYSTATION_USER` is given.
const DEFAULT_USER: &str = "local";

/// `--user`, falling back to `$WAYSTATION_USER`, then to "local".
#[derive(Args, Debug)]
pub struct UserArg {
    /// Who is acting: the reporter, or whose progress [default: $WAYSTATION_USER, else "local"].
    #[arg(long, value_name = "USER")]
    user: Option<String>,
}

impl UserArg {
    /// The user id to act as.
    pub fn resolve(&self) -> String {
        self.user
            .clone()
            .or_else(|| {
                std::env::var("WAYSTATION_USER")
                    .ok()
                    .filter(|u| !u.is_empty())
            })
            .unwrap_or_else(|| DEFAULT_USER.to_string())
    }
}
