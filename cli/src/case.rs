//! `waystation case …`: the follow-up of submitted reports, for station, supervisor and grid
//! accounts, through the core's `Cases` handle (`ws.cases()`), the same calls the apps make:
//! `case list` (`list`: the cases of the reports this device holds, what the account's last
//! sync brought, newest problem first, with each one's age and status, offline), `case show`
//! (`get`: one case with its timeline) and `case record` (`record`: a follow-up event, the
//! actor being `--user`, else `$WAYSTATION_USER`, else `local`).

use anyhow::{Context, Result};
use clap::{Subcommand, ValueEnum};
use waystation_core::Waystation;
use waystation_core::reports::{
    CaseEventKind, CaseQuery, CaseRole, CaseStatus, CaseSummary, CaseView,
};
use waystation_core::stations::hours::china_offset;

use crate::report::{JsonArg, local, print_json};
use crate::user::UserArg;

/// A follow-up role, as `case record --role` takes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    /// Red-station staff.
    Station,
    /// Volunteer food-safety supervisor.
    Supervisor,
    /// Community grid worker.
    Grid,
    /// A rider (always refused: riders never write case events).
    Rider,
}

impl From<RoleArg> for CaseRole {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::Station => CaseRole::StationStaff,
            RoleArg::Supervisor => CaseRole::Supervisor,
            RoleArg::Grid => CaseRole::GridWorker,
            RoleArg::Rider => CaseRole::Rider,
        }
    }
}

/// What a case event does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum KindArg {
    /// Take the report on.
    Acknowledge,
    /// A remark; never changes the status.
    Note,
    /// Ask for more information.
    RequestInfo,
    /// Hand it to a grid (needs --grid).
    Dispatch,
    /// Follow another report instead (needs --of).
    MarkDuplicate,
    /// The problem was fixed.
    Resolve,
    /// Not acted on (needs --reason).
    Reject,
    /// Open a closed case again.
    Reopen,
}

/// A case status, as `--status` takes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum StatusArg {
    /// Nobody has taken it on yet, or it was reopened.
    Open,
    /// Someone has taken it on.
    Acknowledged,
    /// Dispatched to a grid, or more information was asked for.
    InProgress,
    /// Fixed.
    Resolved,
    /// Not acted on, with a reason.
    Rejected,
    /// Followed as another report.
    Duplicate,
}

impl From<StatusArg> for CaseStatus {
    fn from(s: StatusArg) -> Self {
        match s {
            StatusArg::Open => CaseStatus::Open,
            StatusArg::Acknowledged => CaseStatus::Acknowledged,
            StatusArg::InProgress => CaseStatus::InProgress,
            StatusArg::Resolved => CaseStatus::Resolved,
            StatusArg::Rejected => CaseStatus::Rejected,
            StatusArg::Duplicate => CaseStatus::Duplicate,
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum CaseCmd {
    /// The cases this device holds, newest problem first, with age and status: a station's,
    /// supervisor's or grid worker's work list, as of the last sync.
    List {
        /// Only this district (a GB/T 2260 code of Xi'an, e.g. 610103). Repeat for several.
        #[arg(long = "district", value_name = "CODE")]
        districts: Vec<String>,
        /// Only cases in this status. Repeat for several.
        #[arg(long = "status", value_enum, value_name = "STATUS")]
        statuses: Vec<StatusArg>,
        /// Also list reports their reporter withdrew.
        #[arg(long)]
        withdrawn: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// A submitted report's case: status, timeline, events not believed or not readable.
    Show {
        /// Report id.
        id: String,
        #[command(flatten)]
        out: JsonArg,
    },
    /// Record a follow-up event on a submitted report's case (as `--user`).
    Record {
        /// Report id.
        id: String,
        /// Your role.
        #[arg(long, value_enum)]
        role: RoleArg,
        /// What the event does.
        #[arg(long, value_enum)]
        kind: KindArg,
        /// Grid id (dispatch).
        #[arg(long)]
        grid: Option<String>,
        /// The report this one duplicates (mark_duplicate).
        #[arg(long, value_name = "ID")]
        of: Option<String>,
        /// Why (reject).
        #[arg(long)]
        reason: Option<String>,
        /// A note for the timeline.
        #[arg(long, default_value = "")]
        note: String,
        #[command(flatten)]
        user: UserArg,
        #[command(flatten)]
        out: JsonArg,
    },
}

pub fn run(ws: &Waystation, cmd: &CaseCmd) -> Result<()> {
    match cmd {
        CaseCmd::List {
            districts,
            statuses,
            withdrawn,
            json,
        } => {
            let query = CaseQuery {
                districts: districts.clone(),
                statuses: statuses.iter().map(|s| CaseStatus::from(*s)).collect(),
                include_withdrawn: *withdrawn,
            };
            let cases = ws.cases().list(&query)?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&cases)?);
                return Ok(());
            }
            if cases.is_empty() {
                println!("No case matches on this device (as of its last sync).");
            }
            for c in &cases {
                println!("{}", line(c));
            }
        }
        CaseCmd::Show { id, out } => {
            let case = ws.cases().get(id)?;
            if out.json {
                return print_json(&case);
            }
            print_case(&case);
        }
        CaseCmd::Record {
            id,
            role,
            kind,
            grid,
            of,
            reason,
            note,
            user,
            out,
        } => {
            let kind = event_kind(*kind, grid, of, reason)?;
            let case = ws
                .cases()
                .record(id, &user.resolve(), (*role).into(), kind, note)?;
            if out.json {
                return print_json(&case);
            }
            print_case(&case);
        }
    }
    Ok(())
}

fn event_kind(
    kind: KindArg,
    grid: &Option<String>,
    of: &Option<String>,
    reason: &Option<String>,
) -> Result<CaseEventKind> {
    Ok(match kind {
        KindArg::Acknowledge => CaseEventKind::Acknowledge,
        KindArg::Note => CaseEventKind::Note,
        KindArg::RequestInfo => CaseEventKind::RequestInfo,
        KindArg::Dispatch => CaseEventKind::Dispatch {
            grid_id: grid.clone().context("dispatch needs --grid GRID_ID")?,
        },
        KindArg::MarkDuplicate => CaseEventKind::MarkDuplicate {
            of: of.clone().context("mark_duplicate needs --of REPORT_ID")?,
        },
        KindArg::Resolve => CaseEventKind::Resolve,
        KindArg::Reject => CaseEventKind::Reject {
            reason: reason.clone().context("reject needs --reason")?,
        },
        KindArg::Reopen => CaseEventKind::Reopen,
    })
}

pub(crate) fn print_case(c: &CaseView) {
    println!(
        "case {}: {} (Open311 {}) — {}",
        c.report_id,
        c.status.as_str(),
        if c.status.is_closed() {
            "closed"
        } else {
            "open"
        },
        c.status_notes
    );
    if let Some(g) = &c.grid_id {
        println!("  grid: {g}");
    }
    for t in &c.timeline {
        let e = &t.event;
        println!(
            "  {}  {:<14} {} ({}){}{}",
            local(e.at),
            e.kind.name(),
            e.actor,
            e.role,
            e.note
                .as_deref()
                .map(|n| format!(": {n}"))
                .unwrap_or_default(),
            t.not_applied_because
                .as_deref()
                .map(|r| format!(" [not applied: {r}]"))
                .unwrap_or_default()
        );
    }
    if !c.disputed_events.is_empty() {
        println!(
            "  not believed (two values under one event id): {}",
            c.disputed_events.join(", ")
        );
    }
    if !c.unreadable_events.is_empty() {
        println!(
            "  not readable by this version: {}",
            c.unreadable_events.join(", ")
        );
    }
}

/// One case on one line: id, status, age, district, category, submission time, grid.
fn line(c: &CaseSummary) -> String {
    let submitted = c
        .report
        .submitted_at
        .map(|t| {
            t.with_timezone(&china_offset())
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default();
    let mut status = c.status.as_str().to_string();
    if c.report.status == waystation_core::reports::ReportStatus::Withdrawn {
        status = "withdrawn".into();
    }
    let mut out = format!(
        "{}  {:<12}  {:>7}  {}  {:<22}  {}",
        c.report.id,
        status,
        age(c.age_seconds),
        c.report.district.as_deref().unwrap_or("-"),
        c.report.category.code(),
        submitted,
    );
    if let Some(g) = &c.grid_id {
        out.push_str(&format!("  grid {g}"));
    }
    out
}

/// A short age: `45m`, `5h`, `3d 4h`.
fn age(seconds: i64) -> String {
    let (d, h, m) = (
        seconds / 86_400,
        seconds % 86_400 / 3600,
        seconds % 3600 / 60,
    );
    match (d, h) {
        (0, 0) => format!("{m}m"),
        (0, h) => format!("{h}h"),
        (d, 0) => format!("{d}d"),
        (d, h) => format!("{d}d {h}h"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn ages_are_short() {
        assert_eq!(super::age(45 * 60), "45m");
        assert_eq!(super::age(5 * 3600 + 59), "5h");
        assert_eq!(super::age(3 * 86_400 + 4 * 3600), "3d 4h");
        assert_eq!(super::age(2 * 86_400), "2d");
    }
}
