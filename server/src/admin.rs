//! Administration: accounts, tokens and packs. The `waystation-server` command calls these;
//! tests and the device CLI's demo call them in-process.

use chrono::{DateTime, Duration, Utc};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use waystation_core::packs::{self, TrustedKey};
use waystation_core::stations::{STATION_PACK_TYPE, StationPack};
use waystation_core::sync::policy::{self, Role};
use waystation_core::training::pack::Image;
use waystation_core::training::{TRAINING_PACK_TYPE, TrainingPack};
use waystation_core::{Clock, Config, SystemClock, Waystation};

use crate::auth::{self, rfc3339};
use crate::db::Db;
use crate::error::AdminError;
use crate::training_images;

/// Which pack a device fetches from `GET /v1/packs/{kind}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PackKind {
    /// Red stations.
    Stations,
    /// Safety training courses.
    Training,
}

impl PackKind {
    /// `stations` or `training`, as in the path.
    pub fn as_str(self) -> &'static str {
        match self {
            PackKind::Stations => "stations",
            PackKind::Training => "training",
        }
    }

    /// The DSSE payload type packs of this kind are signed as.
    pub fn payload_type(self) -> &'static str {
        match self {
            PackKind::Stations => STATION_PACK_TYPE,
            PackKind::Training => TRAINING_PACK_TYPE,
        }
    }
}

impl std::str::FromStr for PackKind {
    type Err = String;
    fn from_str(s: &str) -> Result<PackKind, String> {
        match s {
            "stations" => Ok(PackKind::Stations),
            "training" => Ok(PackKind::Training),
            other => Err(format!(
                "unknown pack kind '{}': expected stations or training",
                other.chars().take(40).collect::<String>()
            )),
        }
    }
}

/// What `publish_pack` stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublishedPack {
    /// Stations or training.
    pub kind: PackKind,
    /// The payload's pack id.
    pub pack_id: String,
    /// The payload's version.
    pub version: u64,
    /// The ETag devices see: the payload's SHA-256 in hex (without quotes).
    pub etag: String,
    /// Size of the signed pack file in bytes.
    pub bytes: usize,
    /// False when this exact pack was already the published one.
    pub changed: bool,
}

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

    /// Creates an account and returns its first bearer token (shown once; only its hash is
    /// stored). `areas` are the district codes a station, supervisor or grid account follows
    /// up; riders and admins have none.
    pub fn add_user(
        &self,
        user: &str,
        role: Role,
        areas: &[String],
        expires_in: Duration,
    ) -> Result<String, AdminError> {
        policy::check_user_id(user).map_err(AdminError::Invalid)?;
        if user == crate::erasure::ERASED_USER {
            return Err(AdminError::Invalid(format!(
                "'{user}' is reserved: erased accounts' reports name it (decision 0009)"
            )));
        }
        check_scope(role, areas)?;
        let token = auth::new_token().map_err(AdminError::Other)?;
        let now = self.now();
        let mut conn = self.db.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let exists: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM users WHERE user_id = ?1)",
            [user],
            |r| r.get(0),
        )?;
        if exists {
            return Err(AdminError::Invalid(format!(
                "user '{user}' exists already; use 'token issue' for a new token"
            )));
        }
        tx.execute(
            "INSERT INTO users (user_id, role, created_at) VALUES (?1, ?2, ?3)",
            params![user, role.as_str(), rfc3339(now)],
        )?;
        for a in areas {
            tx.execute(
                "INSERT OR IGNORE INTO user_areas (user_id, district) VALUES (?1, ?2)",
                params![user, a],
            )?;
        }
        insert_token(&tx, user, &token, now, expires_in)?;
        tx.commit()?;
        Ok(token)
    }

    /// Issues another bearer token for an existing account.
    pub fn issue_token(&self, user: &str, expires_in: Duration) -> Result<String, AdminError> {
        let token = auth::new_token().map_err(AdminError::Other)?;
        let now = self.now();
        let mut conn = self.db.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let exists: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM users WHERE user_id = ?1)",
            [user],
            |r| r.get(0),
        )?;
        if !exists {
            let shown: String = user.chars().take(64).collect();
            return Err(AdminError::NotFound(format!("no user '{shown}'")));
        }
        insert_token(&tx, user, &token, now, expires_in)?;
        tx.commit()?;
        Ok(token)
    }

    /// Every account, by user id, with its role, areas and how many of its tokens are live.
    pub fn users(&self) -> Result<Vec<UserInfo>, AdminError> {
        let conn = self.db.conn()?;
        let ids = conn
            .prepare("SELECT user_id FROM users ORDER BY user_id")?
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        ids.iter()
            .map(|id| user_info(&conn, id, self.now()))
            .collect()
    }

    /// One account, or [`AdminError::NotFound`].
    pub fn user(&self, user: &str) -> Result<UserInfo, AdminError> {
        let conn = self.db.conn()?;
        user_info(&conn, user, self.now())
    }

    /// Changes an account's role, its areas, or both, and returns it as it now is.
    ///
    /// The change applies to the account's next request. When the role or the areas do
    /// change, the account's scope epoch moves on, so its devices read the change feed again
    /// from the start and receive the reports of districts they were just given. Documents a
    /// device already holds stay on it when an area is taken away; the server sends it no
    /// more changes to them.
    pub fn update_user(&self, user: &str, change: &UserChange) -> Result<UserInfo, AdminError> {
        if change.role.is_none() && change.areas.is_none() {
            return Err(AdminError::Invalid(
                "nothing to change: give a new role, new areas, or both".into(),
            ));
        }
        let now = self.now();
        let mut conn = self.db.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let before = user_info(&tx, user, now)?;
        let role = change.role.unwrap_or(before.role);
        let mut areas = change.areas.clone().unwrap_or_else(|| before.areas.clone());
        areas.sort();
        areas.dedup();
        check_scope(role, &areas).map_err(|e| match (e, change.areas.is_none()) {
            (AdminError::Invalid(why), true) => AdminError::Invalid(format!(
                "{why}; '{user}' has areas {}, so clear them in the same change (--clear-areas)",
                before.areas.join(", ")
            )),
            (e, _) => e,
        })?;
        if role == before.role && areas == before.areas {
            return Ok(before);
        }
        tx.execute(
            "UPDATE users SET role = ?2, scope_epoch = scope_epoch + 1 WHERE user_id = ?1",
            params![user, role.as_str()],
        )?;
        tx.execute("DELETE FROM user_areas WHERE user_id = ?1", [user])?;
        for a in &areas {
            tx.execute(
                "INSERT INTO user_areas (user_id, district) VALUES (?1, ?2)",
                params![user, a],
            )?;
        }
        let after = user_info(&tx, user, now)?;
        tx.commit()?;
        Ok(after)
    }

    /// Revokes every live token of an account (a lost or stolen phone, someone who left),
    /// returning how many were revoked. The account stays; `issue_token` gives it a new one.
    pub fn revoke_user_tokens(&self, user: &str) -> Result<u64, AdminError> {
        let now = self.now().timestamp();
        let mut conn = self.db.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        user_info(&tx, user, self.now())?;
        let n = tx.execute(
            "UPDATE tokens SET revoked_at = ?2 \
             WHERE user_id = ?1 AND revoked_at IS NULL AND expires_at > ?2",
            params![user, now],
        )?;
        tx.commit()?;
        Ok(n as u64)
    }

    /// Marks the database as restored from a backup: draws a new store generation, which
    /// every sync response carries. Devices that see it change offer everything they hold
    /// again (their reports and photos, their progress, the cases they write), so what the
    /// backup lacks comes back from the phones. Returns the new generation.
    pub fn mark_restored(&self) -> Result<String, AdminError> {
        let conn = self.db.conn()?;
        Ok(conn.query_row(
            "UPDATE meta SET generation = lower(hex(randomblob(8))) WHERE id = 1 \
             RETURNING generation",
            [],
            |r| r.get(0),
        )?)
    }

    /// Adds a lesson image (JPEG, PNG or WebP, at most
    /// [`waystation_core::training::MAX_TRAINING_IMAGE_BYTES`]) for training packs to reference.
    /// Returns its SHA-256, the reference a lesson uses, and whether it was new.
    pub fn add_training_image(&self, bytes: &[u8]) -> Result<(String, bool), AdminError> {
        let (sha, mime) = training_images::check(bytes)?;
        let conn = self.db.conn()?;
        let new = training_images::put(&conn, &sha, mime, bytes, &rfc3339(self.now()))?;
        Ok((sha, new))
    }

    /// Revokes a token: every later request with it gets `401`. Revoking twice is fine.
    pub fn revoke_token(&self, token: &str) -> Result<(), AdminError> {
        let conn = self.db.conn()?;
        let n = conn.execute(
            "UPDATE tokens SET revoked_at = COALESCE(revoked_at, ?2) WHERE token_hash = ?1",
            params![&auth::token_hash(token)[..], self.now().timestamp()],
        )?;
        if n == 0 {
            return Err(AdminError::NotFound("no such token".into()));
        }
        Ok(())
    }

    /// Verifies a signed pack exactly as a device would (signature under one of `trusted`,
    /// payload type, header, content) and makes it the pack devices download for its kind.
    /// A training delta pack is refused: the server hands every device one full pack.
    pub fn publish_pack(
        &self,
        kind: PackKind,
        envelope: &[u8],
        trusted: &[TrustedKey],
    ) -> Result<PublishedPack, AdminError> {
        let verified = packs::open(
            envelope,
            kind.payload_type(),
            trusted,
            packs::DEFAULT_MAX_PACK_BYTES,
        )
        .map_err(|e| AdminError::Invalid(e.to_string()))?;
        // (lesson id, image) for every image a training pack's lessons show.
        let mut images: Vec<(String, Image)> = Vec::new();
        let (pack_id, version) = match kind {
            PackKind::Stations => {
                let p = StationPack::from_json(&verified.bytes)
                    .map_err(|e| AdminError::Invalid(e.to_string()))?;
                (p.pack_id, p.version)
            }
            PackKind::Training => {
                let p = TrainingPack::from_json(&verified.bytes)
                    .map_err(|e| AdminError::Invalid(e.to_string()))?;
                if p.is_delta() {
                    return Err(AdminError::Invalid(format!(
                        "pack '{}' is a delta; publish a full training pack (devices that \
                         have no earlier version could not install a delta)",
                        p.pack_id
                    )));
                }
                images = p
                    .courses
                    .iter()
                    .flat_map(|c| &c.lessons)
                    .flat_map(|l| l.images.iter().map(move |i| (l.id.clone(), i.clone())))
                    .collect();
                (p.pack_id, p.version)
            }
        };
        check_installs(kind, envelope, trusted)?;

        let mut conn = self.db.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        check_images(&tx, &images)?;
        let current: Option<(String, String, i64)> = tx
            .query_row(
                "SELECT etag, pack_id, version FROM packs WHERE kind = ?1",
                [kind.as_str()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        if let Some((etag, cur_id, cur_version)) = &current {
            if *etag == verified.payload_sha256 {
                return Ok(PublishedPack {
                    kind,
                    pack_id,
                    version,
                    etag: etag.clone(),
                    bytes: envelope.len(),
                    changed: false,
                });
            }
            if *cur_id == pack_id && version <= *cur_version as u64 {
                return Err(AdminError::Invalid(format!(
                    "pack '{pack_id}' version {version} is not newer than the published \
                     version {cur_version}; devices would refuse it"
                )));
            }
        }
        tx.execute(
            "INSERT INTO packs (kind, bytes, etag, pack_id, version, published_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (kind) DO UPDATE SET \
             bytes = excluded.bytes, etag = excluded.etag, pack_id = excluded.pack_id, \
             version = excluded.version, published_at = excluded.published_at",
            params![
                kind.as_str(),
                envelope,
                verified.payload_sha256,
                pack_id,
                version as i64,
                rfc3339(self.now()),
            ],
        )?;
        tx.commit()?;
        Ok(PublishedPack {
            kind,
            pack_id,
            version,
            etag: verified.payload_sha256,
            bytes: envelope.len(),
            changed: true,
        })
    }
}

/// Checks that the server has every image the lessons show, of the media type each lesson
/// declares: devices download them from here, so a pack is refused while one is missing.
fn check_images(conn: &Connection, images: &[(String, Image)]) -> Result<(), AdminError> {
    // Each image once, with the lessons that show it.
    let mut by_sha: BTreeMap<&str, Vec<(&str, Option<&str>)>> = BTreeMap::new();
    for (lesson, image) in images {
        by_sha
            .entry(&image.sha256)
            .or_default()
            .push((lesson, image.media_type.as_deref()));
    }
    let mut problems = Vec::new();
    for (sha, shown) in by_sha {
        let lessons = || {
            let names: Vec<String> = shown.iter().map(|(l, _)| format!("'{l}'")).collect();
            names.join(", ")
        };
        match training_images::stored_type(conn, sha)? {
            None => problems.push(format!(
                "image {sha} (lesson {}) is not on the server",
                lessons()
            )),
            Some(stored) => {
                for (lesson, declared) in &shown {
                    if let Some(declared) = declared
                        && *declared != stored
                    {
                        problems.push(format!(
                            "lesson '{lesson}' declares image {sha} as {declared}, but it is \
                             {stored}"
                        ));
                    }
                }
            }
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    let n = problems.len();
    problems.truncate(10);
    Err(AdminError::Invalid(format!(
        "{n} lesson image problem(s): {}; add the images with --image FILE",
        problems.join("; ")
    )))
}

/// Installs the pack on a scratch device: what a real device will do with it, every content
/// rule included, so a pack no device could install is never published.
fn check_installs(
    kind: PackKind,
    envelope: &[u8],
    trusted: &[TrustedKey],
) -> Result<(), AdminError> {
    let scratch = tempfile::tempdir()
        .map_err(|e| AdminError::Other(format!("no scratch directory to check the pack: {e}")))?;
    let device = Waystation::open(
        scratch.path(),
        Config {
            trusted_keys: trusted.to_vec(),
            ..Config::default()
        },
    )
    .map_err(|e| AdminError::Other(format!("scratch device for the pack check: {e}")))?;
    let result = match kind {
        PackKind::Stations => device.import_station_pack(envelope).map(|_| ()),
        PackKind::Training => device.import_training_pack(envelope).map(|_| ()),
    };
    result.map_err(|e| AdminError::Invalid(format!("a device would refuse this pack: {e}")))
}

/// An account as the admin commands show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserInfo {
    /// User id.
    pub user: String,
    /// Role.
    pub role: Role,
    /// District codes it follows up, sorted; empty for riders and admins.
    pub areas: Vec<String>,
    /// Tokens neither revoked nor expired.
    pub live_tokens: u64,
    /// When it was created (RFC 3339).
    pub created_at: String,
}

/// A change to an account: `None` leaves that part as it is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserChange {
    /// The new role.
    pub role: Option<Role>,
    /// The new areas, replacing the old ones (empty clears them).
    pub areas: Option<Vec<String>>,
}

/// Checks that `areas` are district codes, and that only follow-up roles have any.
fn check_scope(role: Role, areas: &[String]) -> Result<(), AdminError> {
    for a in areas {
        policy::check_district(a).map_err(AdminError::Invalid)?;
    }
    if !areas.is_empty() && role.case_role().is_none() {
        return Err(AdminError::Invalid(format!(
            "a {role} account has no areas: only station, supervisor and grid accounts \
             follow up the reports of districts"
        )));
    }
    Ok(())
}

/// The account `user`, or [`AdminError::NotFound`].
fn user_info(conn: &Connection, user: &str, now: DateTime<Utc>) -> Result<UserInfo, AdminError> {
    let row: Option<(String, String)> = conn
        .query_row(
            "SELECT role, created_at FROM users WHERE user_id = ?1",
            [user],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((role, created_at)) = row else {
        let shown: String = user.chars().take(64).collect();
        return Err(AdminError::NotFound(format!("no user '{shown}'")));
    };
    let role: Role = role
        .parse()
        .map_err(|e| AdminError::Other(format!("stored role of '{user}': {e}")))?;
    let areas = auth::user_areas(conn, user)?;
    let live_tokens: i64 = conn.query_row(
        "SELECT count(*) FROM tokens WHERE user_id = ?1 AND revoked_at IS NULL \
         AND expires_at > ?2",
        params![user, now.timestamp()],
        |r| r.get(0),
    )?;
    Ok(UserInfo {
        user: user.to_string(),
        role,
        areas,
        live_tokens: live_tokens.max(0) as u64,
        created_at,
    })
}

fn insert_token(
    tx: &rusqlite::Transaction<'_>,
    user: &str,
    token: &str,
    now: DateTime<Utc>,
    expires_in: Duration,
) -> Result<(), AdminError> {
    let expires = now
        .checked_add_signed(expires_in)
        .ok_or_else(|| AdminError::Invalid("token lifetime out of range".into()))?;
    tx.execute(
        "INSERT INTO tokens (token_hash, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
        params![
            &auth::token_hash(token)[..],
            user,
            now.timestamp(),
            expires.timestamp()
        ],
    )?;
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_and_tokens() {
        let dir = tempfile::tempdir().unwrap();
        let admin = Admin::open(&dir.path().join("s.sqlite3")).unwrap();
        let t = admin
            .add_user(
                "staff-1",
                Role::Station,
                &["610113".into()],
                Duration::days(1),
            )
            .unwrap();
        assert!(t.starts_with("wst_"));
        let err = admin
            .add_user("staff-1", Role::Station, &[], Duration::days(1))
            .unwrap_err();
        assert!(err.to_string().contains("exists already"), "{err}");
        let err = admin
            .add_user("r1", Role::Rider, &["610113".into()], Duration::days(1))
            .unwrap_err();
        assert!(err.to_string().contains("has no areas"), "{err}");
        assert!(
            admin
                .add_user("../x", Role::Rider, &[], Duration::days(1))
                .is_err()
        );
        assert!(
            admin
                .add_user("s2", Role::Grid, &["61".into()], Duration::days(1))
                .is_err()
        );
        assert!(matches!(
            admin.issue_token("nobody", Duration::days(1)),
            Err(AdminError::NotFound(_))
        ));
        let t2 = admin.issue_token("staff-1", Duration::days(1)).unwrap();
        assert_ne!(t, t2);
        admin.revoke_token(&t2).unwrap();
        admin.revoke_token(&t2).unwrap();
        assert!(matches!(
            admin.revoke_token("wst_nope"),
            Err(AdminError::NotFound(_))
        ));
    }

    fn epoch(admin: &Admin, user: &str) -> i64 {
        admin
            .db
            .conn()
            .unwrap()
            .query_row(
                "SELECT scope_epoch FROM users WHERE user_id = ?1",
                [user],
                |r| r.get(0),
            )
            .unwrap()
    }

    #[test]
    fn roles_and_areas_change_and_move_the_scope_epoch() {
        let dir = tempfile::tempdir().unwrap();
        let admin = Admin::open(&dir.path().join("s.sqlite3")).unwrap();
        admin
            .add_user(
                "sup-1",
                Role::Supervisor,
                &["610113".into()],
                Duration::days(1),
            )
            .unwrap();
        admin
            .add_user("rider-1", Role::Rider, &[], Duration::days(1))
            .unwrap();
        assert_eq!(epoch(&admin, "sup-1"), 0);
        let areas = |codes: &[&str]| Some(codes.iter().map(|c| c.to_string()).collect());

        // New areas replace the old ones, sorted and without repeats.
        let after = admin
            .update_user(
                "sup-1",
                &UserChange {
                    areas: areas(&["610113", "610103", "610113"]),
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(after.areas, vec!["610103", "610113"]);
        assert_eq!(after.role, Role::Supervisor);
        assert_eq!(epoch(&admin, "sup-1"), 1);
        // The same scope again changes nothing, not even the epoch.
        let same = admin
            .update_user(
                "sup-1",
                &UserChange {
                    role: Some(Role::Supervisor),
                    areas: areas(&["610103", "610113"]),
                },
            )
            .unwrap();
        assert_eq!(same, after);
        assert_eq!(epoch(&admin, "sup-1"), 1);
        // A role change keeps the areas.
        let grid = admin
            .update_user(
                "sup-1",
                &UserChange {
                    role: Some(Role::Grid),
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!((grid.role, grid.areas.len()), (Role::Grid, 2));
        assert_eq!(epoch(&admin, "sup-1"), 2);

        // Refused, each naming the problem, and nothing changes.
        let refusals = [
            ("sup-1", UserChange::default(), "nothing to change"),
            (
                "sup-1",
                UserChange {
                    role: Some(Role::Rider),
                    ..Default::default()
                },
                "--clear-areas",
            ),
            (
                "rider-1",
                UserChange {
                    areas: areas(&["610113"]),
                    ..Default::default()
                },
                "a rider account has no areas",
            ),
            (
                "sup-1",
                UserChange {
                    areas: areas(&["999999"]),
                    ..Default::default()
                },
                "not a GB/T 2260 code",
            ),
            (
                "nobody",
                UserChange {
                    role: Some(Role::Grid),
                    ..Default::default()
                },
                "no user 'nobody'",
            ),
        ];
        for (user, change, why) in refusals {
            let err = admin.update_user(user, &change).unwrap_err();
            assert!(err.to_string().contains(why), "{user} {change:?}: {err}");
        }
        assert_eq!(admin.user("sup-1").unwrap(), grid);
        assert_eq!(epoch(&admin, "sup-1"), 2);

        // To rider, with the areas cleared in the same change.
        let rider = admin
            .update_user(
                "sup-1",
                &UserChange {
                    role: Some(Role::Rider),
                    areas: Some(vec![]),
                },
            )
            .unwrap();
        assert_eq!((rider.role, rider.areas.len()), (Role::Rider, 0));
        let users = admin.users().unwrap();
        let ids: Vec<_> = users.iter().map(|u| u.user.as_str()).collect();
        assert_eq!(ids, ["rider-1", "sup-1"]);
    }

    #[test]
    fn all_of_an_accounts_tokens_can_be_revoked_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let admin = Admin::open(&dir.path().join("s.sqlite3")).unwrap();
        let first = admin
            .add_user("rider-1", Role::Rider, &[], Duration::days(1))
            .unwrap();
        admin.issue_token("rider-1", Duration::days(1)).unwrap();
        admin
            .add_user("rider-2", Role::Rider, &[], Duration::days(1))
            .unwrap();
        admin.revoke_token(&first).unwrap();
        assert_eq!(admin.user("rider-1").unwrap().live_tokens, 1);
        assert_eq!(admin.revoke_user_tokens("rider-1").unwrap(), 1);
        assert_eq!(admin.revoke_user_tokens("rider-1").unwrap(), 0, "twice");
        assert_eq!(admin.user("rider-1").unwrap().live_tokens, 0);
        assert_eq!(
            admin.user("rider-2").unwrap().live_tokens,
            1,
            "others keep theirs"
        );
        assert!(matches!(
            admin.revoke_user_tokens("nobody"),
            Err(AdminError::NotFound(_))
        ));
    }

    #[test]
    fn pack_kinds_parse() {
        assert_eq!("stations".parse::<PackKind>(), Ok(PackKind::Stations));
        assert_eq!("training".parse::<PackKind>(), Ok(PackKind::Training));
        assert!("../x".parse::<PackKind>().is_err());
    }
}
