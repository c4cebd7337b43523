//! `waystation report …`: hazard reports from a terminal, through the same core API the apps
//! use: drafts, evidence, photos, submission, withdrawal, nearby duplicates and export (the
//! follow-up of a submitted report is `waystation case`, in case.rs).
//!
//! The author is `--user`, else `$WAYSTATION_USER`, else
//! `local`. Every command takes `--json`; without it the output is for people. Refusals exit
//! with status 1 and name the reason on stderr; `report submit` lists every problem at once.

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand, ValueEnum};
use serde::Serialize;
use serde_json::json;
use std::path::PathBuf;

use waystation_core::Waystation;
use waystation_core::geo::{Datum, District};
use waystation_core::reports::{
    DuplicateCandidate, DuplicateRules, PositionFix, Report, ReportPatch, ReportRules, ReportStatus,
};
use waystation_core::stations::hours::china_offset;

use crate::user::UserArg;

/// What `report export` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// Open311 GeoReport v2 service request(s).
    Open311,
    /// A GeoJSON FeatureCollection (RFC 7946).
    Geojson,
}

#[derive(Args, Debug)]
pub struct JsonArg {
    /// Print JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Subcommand, Debug)]
pub enum ReportCmd {
    /// Create a draft; prints its id.
    New {
        /// Category code, e.g. food.seal or road.hazard (see docs/formats/categories.md).
        #[arg(long, value_name = "CODE")]
        category: String,
        /// What the problem is (at most 4,000 characters).
        #[arg(long)]
        description: Option<String>,
        #[command(flatten)]
        user: UserArg,
        #[command(flatten)]
        out: JsonArg,
    },
    /// Change a draft's fields or position (autosaved: durable when the command returns).
    Set {
        /// Report id.
        id: String,
        /// What the problem is; an empty string clears it.
        #[arg(long)]
        description: Option<String>,
        /// The merchant's name (food-safety reports).
        #[arg(long)]
        merchant_name: Option<String>,
        /// The merchant's address (food-safety reports).
        #[arg(long)]
        merchant_address: Option<String>,
        /// Where the problem is, in words.
        #[arg(long)]
        address: Option<String>,
        /// Category code.
        #[arg(long, value_name = "CODE")]
        category: Option<String>,
        /// District, a GB/T 2260 code of Xi'an: 610102 Xincheng, 610103 Beilin, 610104 Lianhu,
        /// 610111 Baqiao, 610112 Weiyang, 610113 Yanta, 610114 Yanliang, 610115 Lintong,
        /// 610116 Chang'an, 610117 Gaoling, 610118 Huyi, 610122 Lantian, 610124 Zhouzhi. An
        /// empty string clears it; when unset, submitting takes it from the nearest red station
        /// within 5 km.
        #[arg(long, value_name = "CODE")]
        district: Option<String>,
        /// Latitude of the fix, in --datum.
        #[arg(long, allow_negative_numbers = true, requires = "lon")]
        lat: Option<f64>,
        /// Longitude of the fix, in --datum.
        #[arg(long, allow_negative_numbers = true, requires = "lat")]
        lon: Option<f64>,
        /// Datum of --lat/--lon: wgs84, gcj02 or bd09.
        #[arg(long, default_value = "wgs84", requires = "lat")]
        datum: String,
        /// Accuracy of the fix in metres; leave out when unknown.
        #[arg(
            long,
            value_name = "METRES",
            allow_negative_numbers = true,
            requires = "lat"
        )]
        accuracy: Option<f64>,
        /// The fix came from a mock location provider (kept and flagged).
        #[arg(long, requires = "lat")]
        mock: bool,
        /// When the fix was taken (RFC 3339) [default: now].
        #[arg(long, requires = "lat")]
        fix_time: Option<String>,
        #[command(flatten)]
        out: JsonArg,
    },
    /// Attach a photo (JPEG, PNG or WebP); its metadata is stripped before it is stored.
    Attach {
        /// Report id.
        id: String,
        /// The photo file.
        photo: PathBuf,
        #[command(flatten)]
        out: JsonArg,
    },
    /// Submit a draft: every problem is listed at once when it cannot be submitted.
    Submit {
        /// Report id.
        id: String,
        #[command(flatten)]
        user: UserArg,
        #[command(flatten)]
        out: JsonArg,
    },
    /// Withdraw a submitted report (it is kept).
    Withdraw {
        /// Report id.
        id: String,
        /// Why.
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        user: UserArg,
        #[command(flatten)]
        out: JsonArg,
    },
    /// Your reports, newest first.
    List {
        /// Only drafts.
        #[arg(long)]
        drafts: bool,
        #[command(flatten)]
        user: UserArg,
        #[command(flatten)]
        out: JsonArg,
    },
    /// One report, with its case once submitted (or its problems while a draft).
    Show {
        /// Report id.
        id: String,
        #[command(flatten)]
        out: JsonArg,
    },
    /// Submitted reports of the same category near this one, nearest first.
    Duplicates {
        /// Report id.
        id: String,
        /// Largest distance in metres.
        #[arg(
            long,
            value_name = "METRES",
            default_value_t = 50.0,
            allow_negative_numbers = true
        )]
        radius: f64,
        /// How many days back.
        #[arg(long, default_value_t = 7)]
        days: i32,
        #[command(flatten)]
        out: JsonArg,
    },
    /// Submitted reports with their cases as JSON for another system: an Open311 GeoReport v2
    /// service request (an array for several ids), or a GeoJSON FeatureCollection.
    Export {
        /// Report ids.
        #[arg(required = true)]
        ids: Vec<String>,
        /// Output format.
        #[arg(long, value_enum, default_value = "open311")]
        format: ExportFormat,
        /// Print JSON (export always prints JSON; accepted for uniformity).
        #[command(flatten)]
        out: JsonArg,
    },
}

pub fn run(ws: &Waystation, cmd: &ReportCmd) -> Result<()> {
    let rules = ReportRules::default();
    match cmd {
        ReportCmd::New {
            category,
            description,
            user,
            out,
        } => {
            let id = ws.reports().create_draft(&user.resolve(), category)?;
            let report = match description {
                Some(d) => {
                    let patch = ReportPatch {
                        description: Some(d.clone()),
                        ..ReportPatch::default()
                    };
                    match ws.reports().update_draft(id.as_str(), &patch) {
                        Ok(r) => r,
                        Err(e) => {
                            // The draft exists; say so, so nothing typed seems lost.
                            bail!("{e} (draft {id} was created without the description)")
                        }
                    }
                }
                None => ws.reports().get(id.as_str())?,
            };
            if out.json {
                return print_json(&report);
            }
            println!("{id}");
        }
        ReportCmd::Set {
            id,
            description,
            merchant_name,
            merchant_address,
            address,
            category,
            district,
            lat,
            lon,
            datum,
            accuracy,
            mock,
            fix_time,
            out,
        } => {
            let patch = ReportPatch {
                category: category.clone(),
                description: description.clone(),
                merchant_name: merchant_name.clone(),
                merchant_address: merchant_address.clone(),
                address: address.clone(),
                district: district.clone(),
            };
            let mut report = None;
            if patch != ReportPatch::default() {
                report = Some(ws.reports().update_draft(id, &patch)?);
            }
            if let (Some(lat), Some(lon)) = (lat, lon) {
                let datum: Datum = datum.parse()?;
                let at = match fix_time {
                    Some(t) => parse_time(t)?,
                    None => ws.now(),
                };
                report = Some(ws.reports().set_position(
                    id,
                    &PositionFix {
                        lat: *lat,
                        lon: *lon,
                        datum,
                        accuracy_m: *accuracy,
                        fix_time: at,
                        mock: *mock,
                    },
                )?);
            }
            let report = match report {
                Some(r) => r,
                None => bail!(
                    "nothing to set; give a field such as --description, --district or --lat/--lon"
                ),
            };
            if out.json {
                return print_json(&report);
            }
            print_report(&report);
        }
        ReportCmd::Attach { id, photo, out } => {
            // The default rules' limit (10 MiB), as a read bound: never read a file whole first.
            let max = usize::try_from(rules.max_photo_bytes.max(0)).unwrap_or(usize::MAX);
            let bytes = crate::files::read_bounded(photo, "photo", max)?;
            let info = ws.reports().attach_photo(id, &bytes, &rules)?;
            if out.json {
                return print_json(&info);
            }
            println!(
                "Attached {} ({}, {} bytes after removing metadata).",
                info.sha256, info.media_type, info.size_bytes
            );
        }
        ReportCmd::Submit { id, user, out } => {
            let report = ws.reports().get(id)?;
            if report.status == ReportStatus::Draft {
                let check = ws.reports().check(id, &rules)?;
                if !check.can_submit() {
                    let lines: Vec<String> = check
                        .problems
                        .iter()
                        .map(|p| format!("  {}: {}", p.field, p.message))
                        .collect();
                    bail!(
                        "report {} cannot be submitted ({} problem{}):\n{}",
                        report.id,
                        lines.len(),
                        if lines.len() == 1 { "" } else { "s" },
                        lines.join("\n")
                    );
                }
            }
            let warnings = ws.reports().check(id, &rules)?.warnings;
            let report = ws.reports().submit(&user.resolve(), id, &rules)?;
            if out.json {
                return print_json(&json!({ "report": report, "warnings": warnings }));
            }
            for w in &warnings {
                eprintln!("warning: {}: {}", w.field, w.message);
            }
            println!("Submitted {}; it is in the outbox (pending).", report.id);
        }
        ReportCmd::Withdraw {
            id,
            reason,
            user,
            out,
        } => {
            let report = ws.reports().withdraw(&user.resolve(), id, reason)?;
            if out.json {
                return print_json(&report);
            }
            println!("Withdrew {}; it is kept.", report.id);
        }
        ReportCmd::List { drafts, user, out } => {
            let user = user.resolve();
            let reports = if *drafts {
                ws.reports().drafts(&user)?
            } else {
                ws.reports().by_author(&user)?
            };
            if out.json {
                return print_json(&reports);
            }
            if reports.is_empty() {
                println!("No reports by {user}.");
            }
            for r in &reports {
                println!(
                    "{}  {:<9}  {}  {:<22}  {}",
                    r.id,
                    status_name(r.status),
                    local(r.created_at),
                    r.category.code(),
                    snippet(r.description.as_deref().unwrap_or(""))
                );
            }
        }
        ReportCmd::Show { id, out } => {
            let report = ws.reports().get(id)?;
            let (case, check) = if report.status == ReportStatus::Draft {
                (None, Some(ws.reports().check(id, &rules)?))
            } else {
                (Some(ws.cases().get(id)?), None)
            };
            if out.json {
                return print_json(&json!({ "report": report, "case": case, "check": check }));
            }
            print_report(&report);
            if let Some(check) = check {
                for p in &check.problems {
                    println!("  to fix before submitting: {}: {}", p.field, p.message);
                }
                for w in &check.warnings {
                    println!("  warning: {}: {}", w.field, w.message);
                }
            }
            if let Some(case) = case {
                crate::case::print_case(&case);
            }
        }
        ReportCmd::Duplicates {
            id,
            radius,
            days,
            out,
        } => {
            let rules = DuplicateRules {
                radius_m: *radius,
                max_age_days: *days,
            };
            let found = ws.reports().nearby_duplicates(id, &rules)?;
            if out.json {
                return print_json(&found);
            }
            print_duplicates(&found, &rules);
        }
        ReportCmd::Export { ids, format, out } => {
            let _ = out.json;
            match format {
                ExportFormat::Open311 => {
                    let requests = ids
                        .iter()
                        .map(|id| ws.reports().export_open311(id))
                        .collect::<waystation_core::Result<Vec<_>>>()?;
                    match requests.as_slice() {
                        [one] => print_json(one)?,
                        many => print_json(&many)?,
                    }
                }
                ExportFormat::Geojson => print_json(&ws.reports().export_geojson(ids)?)?,
            }
        }
    }
    Ok(())
}

fn parse_time(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .with_context(|| format!("'{s}' is not an RFC 3339 time such as 2026-11-30T12:00:00+08:00"))
}

pub(crate) fn print_json<T: Serialize>(value: &T) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

pub(crate) fn local(t: DateTime<Utc>) -> String {
    t.with_timezone(&china_offset())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

fn status_name(s: ReportStatus) -> &'static str {
    match s {
        ReportStatus::Draft => "draft",
        ReportStatus::Submitted => "submitted",
        ReportStatus::Withdrawn => "withdrawn",
    }
}

fn snippet(s: &str) -> String {
    let one_line = s.replace(['\n', '\r', '\t'], " ");
    let mut out: String = one_line.chars().take(40).collect();
    if one_line.chars().count() > 40 {
        out.push('…');
    }
    out
}

fn print_report(r: &Report) {
    println!("{}  {}", r.id, status_name(r.status));
    println!(
        "  category: {} ({} / {})",
        r.category.code(),
        r.category.label_zh(),
        r.category.label_en()
    );
    println!("  author:   {}", r.author);
    println!("  created:  {}", local(r.created_at));
    let fields = [
        ("description", &r.description),
        ("merchant", &r.merchant_name),
        ("merchant address", &r.merchant_address),
        ("address", &r.address),
    ];
    for (name, value) in fields {
        if let Some(v) = value {
            println!("  {name}: {v}");
        }
    }
    match &r.position {
        Some(p) => println!(
            "  position: {:.6}, {:.6} (WGS-84; given in {}), accuracy {}{}",
            p.lat,
            p.lon,
            p.datum.as_str(),
            p.accuracy_m
                .map(|a| format!("{a} m"))
                .unwrap_or_else(|| "unknown".into()),
            if p.mock { ", MOCK LOCATION" } else { "" }
        ),
        None => println!("  position: none"),
    }
    match r.district.as_deref() {
        Some(code) => match District::by_code(code) {
            Some(d) => println!("  district: {code} ({} / {})", d.name_zh, d.name_en),
            None => println!("  district: {code}"),
        },
        None => println!("  district: not set"),
    }
    for p in &r.photos {
        println!(
            "  photo: {} ({}, {} bytes)",
            p.sha256, p.media_type, p.size_bytes
        );
    }
    if let Some(at) = r.submitted_at {
        println!("  submitted: {}", local(at));
    }
    if let Some(at) = r.withdrawn_at {
        println!(
            "  withdrawn: {} ({})",
            local(at),
            r.withdraw_reason.as_deref().unwrap_or("no reason given")
        );
    }
    if let Some(o) = &r.outbox {
        let state = serde_json::to_value(o)
            .ok()
            .and_then(|v| v.get("state").and_then(|s| s.as_str()).map(str::to_string))
            .unwrap_or_default();
        println!("  outbox: {state}");
    }
}

fn print_duplicates(found: &[DuplicateCandidate], rules: &DuplicateRules) {
    if found.is_empty() {
        println!(
            "No reports of the same category within {} m over the last {} days.",
            rules.radius_m, rules.max_age_days
        );
        return;
    }
    for d in found {
        println!(
            "{}  {:>6.1} m  case {}  {}",
            d.report.id,
            d.distance_m,
            d.case_status.as_str(),
            snippet(d.report.description.as_deref().unwrap_or(""))
        );
    }
}
