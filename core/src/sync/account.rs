//! The account this device syncs as, as its server last described it (`GET /v1/me`).
//!
//! The core API takes the writer of a case event (`actor`, `role`) from its caller, because a
//! device works offline and a shell signs in however it likes. Believing that claim let a
//! rider's device record a `station_staff` acknowledgement that the server then refused and
//! the rider's own timeline kept showing. So once the device knows its account, the core
//! refuses locally what the server would refuse of it: another actor, a role the account does
//! not hold, a report outside its districts ([`KnownAccount::check_case_writer`]).
//!
//! **When it is learned.** At the end of a successful sync, with one `GET /v1/me`, when the
//! device knows no account for this server and token, or learned it more than
//! [`RELEARN_AFTER`] ago (so a role or district changed by an admin reaches the device within
//! a day). A sync with nothing to do stays one round trip otherwise. Asking is best effort: a
//! failure leaves what the device knew, and the next sync asks again.
//!
//! **One question per sync.** Other steps of a sync need the account too (offering everything
//! again after a server lost data, refusing an erasure's new history for the account's own
//! reports). They all go through one [`AccountQuery`], so `GET /v1/me` is asked at most once
//! per sync, and only when a step needs it: a sync with nothing to do makes no extra request.
//!
//! **Before it is learned** (a new device that has never completed a sync), the core accepts
//! what the caller claims, as before: an offline-first app must let a supervisor work on day
//! one, and the server still refuses a wrong claim with a reason the device keeps and shows.
//! After a shell signs in as another account, the first sync re-learns it; until then case
//! events in the new account's name are refused locally, which says to sync first.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use std::str::FromStr;

use super::http::Client;
use super::policy::Role;
use super::{SyncReport, SyncSettings, protocol};
use crate::error::{Error, Result};
use crate::packs::sha256_hex;
use crate::reports::CaseRole;

/// How long a learned account is trusted before the next sync asks again.
pub const RELEARN_AFTER: Duration = Duration::days(1);

/// The account this device syncs as, as its server described it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct KnownAccount {
    /// User id.
    pub user: String,
    /// Role on the server.
    pub role: Role,
    /// District codes (GB/T 2260) the account follows up; empty for riders and admins.
    pub areas: Vec<String>,
    /// When the device learned it (device clock).
    pub learned_at: DateTime<Utc>,
}

impl KnownAccount {
    /// Refuses, with the reason, what the server would refuse of this account writing a case
    /// event as `actor` in `role` on a report in `district`.
    pub fn check_case_writer(
        &self,
        actor: &str,
        role: CaseRole,
        district: Option<&str>,
    ) -> Result<()> {
        if actor != self.user {
            return Err(Error::invalid(
                "the actor is not the account this device syncs as; case events are written \
                 in that account's name (after signing in as another account, sync first)",
            ));
        }
        let Some(holds) = self.role.case_role() else {
            return Err(Error::invalid(format!(
                "this device's account is a {} on the server; only station staff, supervisors \
                 and grid workers write case events",
                self.role
            )));
        };
        if holds != role {
            return Err(Error::invalid(format!(
                "this device's account is a {holds} on the server, not a {role}"
            )));
        }
        let covered = district.is_some_and(|d| self.areas.iter().any(|a| a == d));
        if !covered {
            return Err(Error::invalid(
                "the report is outside the districts this device's account follows up",
            ));
        }
        Ok(())
    }
}

fn token_sha256(token: &str) -> String {
    sha256_hex(token.as_bytes())
}

/// The account this device last learned, if any.
pub(crate) fn known(conn: &Connection) -> Result<Option<KnownAccount>> {
    let row: Option<(String, String, String, String)> = conn
        .query_row(
            "SELECT user_id, role, areas, learned_at FROM sync_account WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
    let Some((user, role, areas, learned_at)) = row else {
        return Ok(None);
    };
    // A row this build cannot read counts as unknown: the next sync learns it again.
    let (Ok(role), Ok(learned_at)) = (
        Role::from_str(&role),
        DateTime::parse_from_rfc3339(&learned_at),
    ) else {
        return Ok(None);
    };
    Ok(Some(KnownAccount {
        user,
        role,
        areas: areas
            .split(',')
            .filter(|a| !a.is_empty())
            .map(str::to_string)
            .collect(),
        learned_at: learned_at.with_timezone(&Utc),
    }))
}

/// `GET /v1/me`, asked at most once per sync, by whichever step needs it first.
#[derive(Default)]
pub(crate) struct AccountQuery {
    answer: Option<protocol::Me>,
}

impl AccountQuery {
    /// What the server says this device's token belongs to; asked on the first call only.
    pub(crate) fn get(&mut self, client: &Client, report: &mut SyncReport) -> Result<protocol::Me> {
        if let Some(me) = &self.answer {
            return Ok(me.clone());
        }
        let me = client.me(report)?;
        self.answer = Some(me.clone());
        Ok(me)
    }
}

/// Whether the next sync should ask the server who this device is.
fn needs_learning(conn: &Connection, settings: &SyncSettings, now: DateTime<Utc>) -> Result<bool> {
    let row: Option<(String, String, String)> = conn
        .query_row(
            "SELECT server, token_sha256, learned_at FROM sync_account WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    Ok(match row {
        Some((server, token, learned_at)) => {
            server != settings.server
                || token != token_sha256(&settings.token)
                || DateTime::parse_from_rfc3339(&learned_at)
                    .map_or(true, |t| now - t.with_timezone(&Utc) > RELEARN_AFTER)
        }
        None => true,
    })
}

/// Stores what `GET /v1/me` said. An answer naming an unknown role or a bad district is
/// ignored (the next sync asks again): the device never acts on what it cannot check.
fn remember(
    conn: &Connection,
    settings: &SyncSettings,
    me: &protocol::Me,
    now: DateTime<Utc>,
) -> Result<()> {
    if Role::from_str(&me.role).is_err()
        || me.areas.len() > crate::geo::XIAN_DISTRICTS.len()
        || me
            .areas
            .iter()
            .any(|a| super::policy::check_district(a).is_err())
    {
        return Ok(());
    }
    conn.execute(
        "INSERT INTO sync_account (id, server, token_sha256, user_id, role, areas, learned_at) \
         VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(id) DO UPDATE SET \
         server = excluded.server, token_sha256 = excluded.token_sha256, \
         user_id = excluded.user_id, role = excluded.role, areas = excluded.areas, \
         learned_at = excluded.learned_at",
        params![
            settings.server,
            token_sha256(&settings.token),
            me.user,
            me.role,
            me.areas.join(","),
            now.to_rfc3339_opts(SecondsFormat::Millis, true)
        ],
    )?;
    Ok(())
}

impl super::device::Device<'_> {
    /// The user id this device's token belongs to: the one stored for this server and token
    /// (a token never changes hands, so its age does not matter), or else asked through
    /// `query`.
    pub(crate) fn account_user(
        &self,
        client: &Client,
        report: &mut SyncReport,
        query: &mut AccountQuery,
    ) -> Result<String> {
        let stored: Option<String> = self
            .store()
            .read()
            .query_row(
                "SELECT user_id FROM sync_account WHERE id = 1 AND server = ?1 \
                 AND token_sha256 = ?2",
                params![client.settings.server, token_sha256(&client.settings.token)],
                |r| r.get(0),
            )
            .optional()?;
        match stored {
            Some(user) => Ok(user),
            None => Ok(query.get(client, report)?.user),
        }
    }

    /// After a successful sync: stores what `GET /v1/me` said when the account is unknown for
    /// this server and token, or stale, or was asked anyway in this sync (`query`, which asks
    /// only if no step of the sync did). Best effort (see the module docs).
    pub(crate) fn learn_account(
        &self,
        client: &Client,
        report: &mut SyncReport,
        query: &mut AccountQuery,
    ) {
        let now = self.now();
        let settings = client.settings;
        let wanted = needs_learning(&self.store().read(), settings, now);
        if !matches!(wanted, Ok(true)) && query.answer.is_none() {
            return;
        }
        match query.get(client, report) {
            Ok(me) => {
                if let Err(e) = remember(&self.store().write(), settings, &me, now) {
                    log::debug!(target: "waystation::sync", "the account could not be stored: {e}");
                }
            }
            // Nothing to do on a failure: the next sync asks again.
            Err(e) => log::debug!(target: "waystation::sync", "GET /v1/me failed: {e}"),
        }
    }
}
