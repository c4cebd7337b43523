//! `waystation sync …`: sync this data directory with a Waystation server, and show the sync
//! status. The server and token come from `--server`/`--token` or `$WAYSTATION_SERVER` and
//! `$WAYSTATION_TOKEN` (a token on the command line is visible to other local users in the
//! process list; prefer the environment).

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use serde_json::json;
use std::sync::Arc;

use waystation_core::Waystation;
use waystation_core::sync::{
    HttpTransport, MAX_TIMEOUT_MS, SyncOptions, SyncRefusal, SyncReport, SyncSettings, SyncStatus,
};

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SyncCmd {
    #[command(subcommand)]
    pub sub: Option<SyncSub>,
    #[command(flatten)]
    pub server: ServerArgs,
    /// Also fetch newer station and training packs (conditional requests).
    #[arg(long)]
    pub packs: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand, Debug)]
pub enum SyncSub {
    /// Pending documents and photos, refusals, last success and error. Works offline.
    Status {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Dismiss a refusal you cannot fix by editing: the document leaves the status and stops
    /// waiting to be sent; nothing is deleted, and a new edit sends it again.
    Dismiss {
        /// The refused document's id, as `sync status` lists it.
        doc_id: String,
    },
    /// Download a report photo this device does not have (follow-up roles).
    Photo {
        /// The photo's SHA-256.
        sha256: String,
        #[command(flatten)]
        server: ServerArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Largest `--ca-cert` file: a PEM bundle of a few certificates is kilobytes (Mozilla's whole
/// root store is about 200 KB), and the file is read whole before it is parsed.
pub const MAX_CA_CERT_BYTES: usize = 1024 * 1024;

#[derive(Args, Debug, Clone)]
pub struct ServerArgs {
    /// Server base URL, e.g. http://127.0.0.1:8080 [env: WAYSTATION_SERVER].
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,
    /// Bearer token from `waystation-server user add` [env: WAYSTATION_TOKEN].
    #[arg(long, value_name = "TOKEN")]
    pub token: Option<String>,
    /// Timeout of one request, in seconds (1..=600).
    #[arg(long, default_value_t = 30)]
    pub timeout: u64,
    /// Also trust this CA certificate (PEM), e.g. a private server's self-signed one.
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<std::path::PathBuf>,
    /// Allow plain http:// to a server that is not on this machine: the token and every
    /// report cross the network unencrypted. For a test bench only (http:// to 127.0.0.1,
    /// [::1] or localhost needs no flag).
    #[arg(long = "insecure-http-i-know")]
    pub insecure_http_i_know: bool,
}

impl ServerArgs {
    /// The settings and the built-in transport, checked by the core's [`SyncOptions`] (the
    /// apps' record: one set of rules for both).
    fn connect(&self) -> Result<(SyncSettings, Arc<dyn HttpTransport>)> {
        let server = match &self.server {
            Some(s) => s.clone(),
            None => std::env::var("WAYSTATION_SERVER")
                .context("no server: pass --server URL or set WAYSTATION_SERVER")?,
        };
        let token = match &self.token {
            Some(t) => t.clone(),
            None => std::env::var("WAYSTATION_TOKEN")
                .context("no token: pass --token T or set WAYSTATION_TOKEN")?,
        };
        let extra_root_pem = match &self.ca_cert {
            Some(p) => {
                let pem = crate::files::read_bounded(p, "CA certificate", MAX_CA_CERT_BYTES)?;
                Some(String::from_utf8(pem).context("the CA certificate file is not PEM text")?)
            }
            None => None,
        };
        let max_secs = MAX_TIMEOUT_MS / 1000;
        let timeout_ms = (i64::try_from(self.timeout).ok())
            .filter(|s| (1..=max_secs).contains(s))
            .with_context(|| format!("--timeout must be 1..={max_secs} seconds"))?
            * 1000;
        let options = SyncOptions {
            timeout_ms: Some(timeout_ms),
            extra_root_pem,
            allow_insecure_http: self.insecure_http_i_know,
            ..SyncOptions::new(&server, &token)
        };
        Ok((options.settings()?, options.transport(None)?))
    }
}

pub fn run(ws: &Waystation, cmd: &SyncCmd) -> Result<()> {
    match &cmd.sub {
        Some(SyncSub::Status { json }) => {
            let status = ws.sync().status()?;
            let refusals = ws.sync().refusals()?;
            if *json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&status_json(&status, &refusals))?
                );
            } else {
                print_status(&status, &refusals);
            }
            Ok(())
        }
        Some(SyncSub::Dismiss { doc_id }) => {
            ws.sync().dismiss(doc_id)?;
            println!("dismissed: {doc_id}");
            Ok(())
        }
        Some(SyncSub::Photo {
            sha256,
            server,
            json,
        }) => {
            let (settings, transport) = server.connect()?;
            let path = ws.reports().fetch_photo(
                &settings,
                &*transport,
                sha256,
                &waystation_core::CancelToken::never(),
            )?;
            if *json {
                println!("{}", json!({ "sha256": sha256, "path": path }));
            } else {
                println!("{}", path.display());
            }
            Ok(())
        }
        None => {
            let (settings, transport) = cmd.server.connect()?;
            let packs = if cmd.packs {
                Some(ws.packs().fetch(
                    &settings,
                    &*transport,
                    &waystation_core::CancelToken::never(),
                )?)
            } else {
                None
            };
            let report = ws.sync().run(
                &settings,
                &*transport,
                &waystation_core::CancelToken::never(),
            )?;
            let status = ws.sync().status()?;
            if cmd.json {
                let mut v = report_json(&report);
                v["status"] = status_json(&status, &ws.sync().refusals()?);
                if let Some(p) = packs {
                    v["packs"] = json!({
                        "stations": p.stations,
                        "training": p.training,
                        "training_images_fetched": p.training_images_fetched,
                        "training_images_missing": p.training_image_problems.len(),
                        "training_image_problems": p.training_image_problems,
                    });
                }
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                print_report(&report, &status);
                if let Some(p) = packs {
                    match (p.stations, p.training) {
                        (None, None) => println!("packs: up to date"),
                        (s, t) => println!(
                            "packs: installed{}{}",
                            s.map(|v| format!(" stations v{v}")).unwrap_or_default(),
                            t.map(|v| format!(" training v{v}")).unwrap_or_default()
                        ),
                    }
                    if p.training_images_fetched > 0 {
                        println!("lesson images: {} fetched", p.training_images_fetched);
                    }
                    if !p.training_image_problems.is_empty() {
                        println!(
                            "lesson images: {} still missing (the next sync --packs asks again)",
                            p.training_image_problems.len()
                        );
                        for why in &p.training_image_problems {
                            println!("  {why}");
                        }
                    }
                }
            }
            Ok(())
        }
    }
}

fn refusals_json(refusals: &[SyncRefusal]) -> serde_json::Value {
    refusals
        .iter()
        .map(|x| json!({ "doc_id": x.doc_id, "reason": x.reason, "at": x.at.to_rfc3339() }))
        .collect()
}

fn report_json(r: &SyncReport) -> serde_json::Value {
    json!({
        "requests": r.requests,
        "photos_uploaded": r.photos_uploaded,
        "bytes_sent": r.bytes_sent,
        "bytes_received": r.bytes_received,
        "documents_sent": r.documents_sent,
        "documents_received": r.documents_received,
        "refused": refusals_json(&r.refused),
        "complete": r.complete,
    })
}

fn status_json(s: &SyncStatus, refusals: &[SyncRefusal]) -> serde_json::Value {
    json!({
        "server": s.server,
        "in_progress": s.in_progress,
        "pending_documents": s.pending_documents,
        "pending_photos": s.pending_photos,
        "refused_documents": s.refused_documents,
        "last_attempt": s.last_attempt.map(|t| t.to_rfc3339()),
        "last_success": s.last_success.map(|t| t.to_rfc3339()),
        "last_error": s.last_error,
        "last_reoffer": s.last_reoffer.map(|t| t.to_rfc3339()),
        "reoffer_held_back": s.reoffer_held_back.map(|t| t.to_rfc3339()),
        "refusals": refusals_json(refusals),
    })
}

fn print_report(r: &SyncReport, s: &SyncStatus) {
    println!(
        "synced: {} sent, {} received, {} photo(s) uploaded, {} request(s), {} B up / {} B down{}",
        r.documents_sent,
        r.documents_received,
        r.photos_uploaded,
        r.requests,
        r.bytes_sent,
        r.bytes_received,
        if r.complete {
            ""
        } else {
            " (more to do: sync again)"
        }
    );
    for x in &r.refused {
        println!("refused: {} — {}", x.doc_id, x.reason);
    }
    println!(
        "pending: {} document(s), {} photo(s)",
        s.pending_documents, s.pending_photos
    );
}

fn print_status(s: &SyncStatus, refusals: &[SyncRefusal]) {
    let t = |x: Option<chrono::DateTime<chrono::Utc>>| {
        x.map(|t| t.to_rfc3339()).unwrap_or_else(|| "never".into())
    };
    println!(
        "server:       {}",
        s.server.as_deref().unwrap_or("(never synced)")
    );
    println!("in progress:  {}", if s.in_progress { "yes" } else { "no" });
    println!(
        "pending:      {} document(s), {} photo(s)",
        s.pending_documents, s.pending_photos
    );
    println!("refused:      {}", s.refused_documents);
    println!("last attempt: {}", t(s.last_attempt));
    println!("last success: {}", t(s.last_success));
    if let Some(e) = &s.last_error {
        println!("last error:   {e}");
    }
    if let Some(at) = s.last_reoffer {
        println!(
            "re-offered:   {} (the server said it lost data)",
            at.to_rfc3339()
        );
    }
    if let Some(at) = s.reoffer_held_back {
        println!(
            "held back:    {} the server asked again for everything within 24 h; not sent",
            at.to_rfc3339()
        );
    }
    if s.pending_documents == 0 && s.pending_photos == 0 {
        println!("nothing pending");
    }
    for x in refusals {
        println!("refused: {} — {}", x.doc_id, x.reason);
    }
}
