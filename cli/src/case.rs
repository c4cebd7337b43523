//! `waystation case list`: the follow-up view for station, supervisor and grid accounts. It
//! lists the cases of the reports this device holds (what the account's last sync brought:
//! the reports of its districts), newest problem first, with each one's age and status,
//! offline. The query is the core's (`ws.cases().list`), so the apps share it.

use anyhow::Result;
use clap::{Subcommand, ValueEnum};
use waystation_core::Waystation;
use waystation_core::reports::{CaseQuery, CaseStatus, CaseSummary};
use waystation_core::stations::hours::china_offset;

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
    }
    Ok(())
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
