//! Administration: accounts, tokens and packs. The `waystation-server` command calls these;
//! tests and the device CLI's demo call them in-process.
//!
//! [`Admin`] is one type whose methods live beside what they administer: accounts in
//! `users`, bearer tokens in `tokens`, signed packs and lesson images in `packs`.

use chrono::{DateTime, Duration, Utc};
use std::path::Path;
use std::sync::Arc;
use waystation_core::packs::TrustedKey;
use waystation_core::sync::policy::Role;
use waystation_core::{Clock, SystemClock};

use crate::db::Db;
use crate::error::AdminError;

mod packs;
mod tokens;
mod users;

pub use packs::{PackKind, PublishedPack};
pub use users::{UserChange, UserInfo};

/// Administration of one server database, with an injectable clock (tests).
pub struct Admin {
    db: Db,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Admin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admin").field("db", &self.db).finish()
    }
}

impl Admin {
    /// Opens (creating and migrating if needed) the server database at `db_path`.
    pub fn open(db_path: &Path) -> Result<Admin, AdminError> {
        Ok(Admin {
            db: Db::open(db_path)?,
            clock: Arc::new(SystemClock),
        })
    }

    /// The same, with times taken from `clock`.
    pub fn with_clock(self, clock: Arc<dyn Clock>) -> Admin {
        Admin { clock, ..self }
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Marks the database as restored from a backup: draws a new store generation, which
    /// every sync response carries. Devices that see it change offer everything they hold
    /// again (their reports and photos, their progress, the cases they write), so what the
    /// backup lacks comes back from the phones. Returns the new generation.
    pub fn mark_restored(&self) -> Result<String, AdminError> {
        let tx = self.db.write()?;
        let generation = tx.mark_restored()?;
        tx.commit()?;
        Ok(generation)
    }
}

/// [`Admin::add_user`] on the database at `db`: creates an account and returns its token.
pub fn add_user(
    db: &Path,
    user: &str,
    role: Role,
    areas: &[String],
    expires_in: Duration,
) -> Result<String, AdminError> {
    Admin::open(db)?.add_user(user, role, areas, expires_in)
}

/// [`Admin::issue_token`] on the database at `db`.
pub fn issue_token(db: &Path, user: &str, expires_in: Duration) -> Result<String, AdminError> {
    Admin::open(db)?.issue_token(user, expires_in)
}

/// [`Admin::revoke_token`] on the database at `db`.
pub fn revoke_token(db: &Path, token: &str) -> Result<(), AdminError> {
    Admin::open(db)?.revoke_token(token)
}

/// [`Admin::publish_pack`] on the database at `db`.
pub fn publish_pack(
    db: &Path,
    kind: PackKind,
    envelope: &[u8],
    trusted: &[TrustedKey],
) -> Result<PublishedPack, AdminError> {
    Admin::open(db)?.publish_pack(kind, envelope, trusted)
}
