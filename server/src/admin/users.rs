//! Accounts: creating them, listing them, and changing their role and areas.

use chrono::{DateTime, Duration, Utc};
use waystation_core::sync::policy::{self, Role};

use super::Admin;
use super::tokens::insert_token;
use crate::auth::{self, rfc3339};
use crate::error::AdminError;
use crate::store::StoreTx;

impl Admin {
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
        let tx = self.db.write()?;
        if tx.user(user)?.is_some() {
            return Err(AdminError::Invalid(format!(
                "user '{user}' exists already; use 'token issue' for a new token"
            )));
        }
        tx.insert_user(user, role.as_str(), &rfc3339(now), areas)?;
        insert_token(tx.as_ref(), user, &token, now, expires_in)?;
        tx.commit()?;
        Ok(token)
    }

    /// Every account, by user id, with its role, areas and how many of its tokens are live.
    pub fn users(&self) -> Result<Vec<UserInfo>, AdminError> {
        let tx = self.db.read()?;
        let ids = tx.user_ids()?;
        ids.iter()
            .map(|id| user_info(tx.as_ref(), id, self.now()))
            .collect()
    }

    /// One account, or [`AdminError::NotFound`].
    pub fn user(&self, user: &str) -> Result<UserInfo, AdminError> {
        user_info(self.db.read()?.as_ref(), user, self.now())
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
        let tx = self.db.write()?;
        let before = user_info(tx.as_ref(), user, now)?;
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
        tx.set_user_scope(user, role.as_str(), &areas)?;
        let after = user_info(tx.as_ref(), user, now)?;
        tx.commit()?;
        Ok(after)
    }
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
pub(super) fn user_info(
    tx: &dyn StoreTx,
    user: &str,
    now: DateTime<Utc>,
) -> Result<UserInfo, AdminError> {
    let row = tx.user(user)?;
    let Some(row) = row else {
        let shown: String = user.chars().take(64).collect();
        return Err(AdminError::NotFound(format!("no user '{shown}'")));
    };
    let role: Role = row
        .role
        .parse()
        .map_err(|e| AdminError::Other(format!("stored role of '{user}': {e}")))?;
    let areas = tx.user_areas(user)?;
    let live_tokens = tx.live_tokens(user, now.timestamp())?;
    Ok(UserInfo {
        user: user.to_string(),
        role,
        areas,
        live_tokens,
        created_at: row.created_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn epoch(admin: &Admin, user: &str) -> i64 {
        admin.db.read().unwrap().scope_epoch(user).unwrap().unwrap() as i64
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
}
