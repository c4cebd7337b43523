//! `waystation`: the Waystation core from a terminal, for riders' app developers, publishers
//! and operators. Every command goes through the same core API the apps use.

mod case;
// The demo links the sync server (axum, its store): only with the `demo` feature. Without it,
// `waystation demo` is there and says how to get it.
#[cfg(feature = "demo")]
mod demo;
#[cfg(not(feature = "demo"))]
#[path = "demo_off.rs"]
mod demo;
mod files;
mod output;
mod report;
mod sync;
mod training;
mod user;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand};
use std::path::{Path, PathBuf};

use waystation_core::geo::{Datum, Position};
use waystation_core::packs::{self, PublisherKeyPair, TrustedKey};
use waystation_core::stations::{
    Hours, NearestQuery, STATION_PACK_TYPE, ServiceSet, StationFilter, WithinQuery,
};
use waystation_core::{Options, Waystation};

/// The Xi'an sample pack, signed with the demo key, installed into fresh data directories.
pub(crate) const SAMPLE_PACK: &[u8] = include_bytes!("../../data/stations/xian-sample.pack.json");

#[derive(Parser, Debug)]
#[command(
    name = "waystation",
    version,
    about = "Waystation: offline red stations, reports and training for Xi'an's delivery riders"
)]
struct Cli {
    /// Data directory [default: $WAYSTATION_DATA_DIR, else $XDG_DATA_HOME/waystation, else
    /// ~/.local/share/waystation]. A fresh one gets the bundled Xi'an sample pack.
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,

    /// Trust packs signed by this publisher key (a JSON file with key_id and public_key).
    /// May be repeated.
    #[arg(long, global = true, value_name = "FILE")]
    trust_key: Vec<PathBuf>,

    /// Do not trust the demo publisher key (whose secret is public).
    #[arg(long, global = true)]
    no_demo_key: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Find and inspect red stations.
    #[command(subcommand)]
    Stations(StationsCmd),
    /// Convert coordinates between WGS-84, GCJ-02 and BD-09.
    #[command(subcommand)]
    Coord(CoordCmd),
    /// Evaluate OSM opening_hours strings.
    #[command(subcommand)]
    Hours(HoursCmd),
    /// Create keys and sign packs (for publishers).
    #[command(subcommand)]
    Pack(PackCmd),
    /// Safety training: courses, lessons, search, quizzes, progress.
    #[command(subcommand)]
    Training(training::TrainingCmd),
    /// Hazard reports: drafts, photos, submission, case follow-up, duplicates, export.
    #[command(subcommand)]
    Report(report::ReportCmd),
    /// The follow-up of submitted reports, for station, supervisor and grid accounts: the
    /// cases of their districts (offline, as of the last sync), one case, recording events.
    #[command(subcommand)]
    Case(case::CaseCmd),
    /// Sync with a Waystation server (`sync --server URL --token T`), or show the status.
    Sync(sync::SyncCmd),
    /// The whole story on a real server on loopback: a rider reports offline, syncs; station
    /// and supervisor follow up; everyone converges. Prints a transcript. Needs a build with
    /// the `demo` feature (`cargo run -p waystation-cli --features demo -- demo`).
    Demo(demo::DemoArgs),
}

#[derive(Args, Debug)]
struct PositionArgs {
    /// Latitude in degrees.
    #[arg(long, allow_negative_numbers = true)]
    lat: f64,
    /// Longitude in degrees.
    #[arg(long, allow_negative_numbers = true)]
    lon: f64,
    /// Datum of --lat/--lon: wgs84 (GPS), gcj02 (Amap, Tencent) or bd09 (Baidu).
    #[arg(long, default_value = "wgs84")]
    datum: String,
}

#[derive(Args, Debug)]
struct FilterArgs {
    /// Only stations offering this service (repeat for several; all are required).
    #[arg(long = "service", value_name = "NAME")]
    services: Vec<String>,
    /// Only stations open at this time (RFC 3339, e.g. 2026-11-30T12:00:00+08:00).
    #[arg(long, conflicts_with = "open_now")]
    open_at: Option<String>,
    /// Only stations open now.
    #[arg(long)]
    open_now: bool,
    /// Only stations at most this many metres away.
    #[arg(long, value_name = "METRES")]
    max_distance: Option<f64>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand, Debug)]
enum StationsCmd {
    /// Verify and install a signed station pack.
    Import {
        /// The .pack.json file.
        file: PathBuf,
    },
    /// The nearest stations, nearest first.
    Nearest {
        #[command(flatten)]
        position: PositionArgs,
        #[command(flatten)]
        filter: FilterArgs,
        /// How many stations.
        #[arg(long, default_value_t = 5)]
        limit: i32,
    },
    /// Every station within a radius, nearest first.
    Within {
        #[command(flatten)]
        position: PositionArgs,
        /// Radius in metres.
        #[arg(long)]
        radius: f64,
        #[command(flatten)]
        filter: FilterArgs,
    },
    /// One station by id.
    Show {
        /// Station id, e.g. XA-0001.
        id: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Search names and addresses (Chinese or English).
    Search {
        /// Text to find, e.g. 小寨 or Yanta.
        text: String,
        /// Most results.
        #[arg(long, default_value_t = 20)]
        limit: i32,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Installed packs.
    Packs {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
enum CoordCmd {
    /// Convert one coordinate; prints {"lat":…,"lon":…}.
    Convert {
        /// Source datum.
        #[arg(long)]
        from: String,
        /// Target datum.
        #[arg(long)]
        to: String,
        /// Latitude.
        #[arg(allow_negative_numbers = true)]
        lat: f64,
        /// Longitude.
        #[arg(allow_negative_numbers = true)]
        lon: f64,
    },
}

#[derive(Subcommand, Debug)]
enum HoursCmd {
    /// Status at a time; prints {"status":…,"next_change":…}.
    Check {
        /// OSM opening_hours, e.g. "Mo-Fr 08:00-18:00; PH off".
        spec: String,
        /// When (RFC 3339). Defaults to now.
        #[arg(long)]
        at: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
enum PackCmd {
    /// Generate a publisher key pair (keep the file secret; share its public_key).
    Keygen {
        /// The id packs will be signed under.
        #[arg(long)]
        key_id: String,
        /// Where to write the key pair (refuses to overwrite).
        #[arg(long)]
        out: PathBuf,
    },
    /// Sign a payload JSON file into a pack.
    Sign {
        /// Key pair file from `pack keygen`.
        #[arg(long)]
        key: PathBuf,
        /// The payload JSON.
        #[arg(long = "in")]
        input: PathBuf,
        /// The signed pack to write.
        #[arg(long)]
        out: PathBuf,
        /// Payload type: stations (default) or a full media type.
        #[arg(long, default_value = "stations")]
        r#type: String,
    },
    /// Verify a pack against the trusted keys without installing it.
    Verify {
        /// The pack file.
        file: PathBuf,
        /// Payload type: stations (default) or a full media type.
        #[arg(long, default_value = "stations")]
        r#type: String,
    },
}

fn default_data_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("WAYSTATION_DATA_DIR") {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("XDG_DATA_HOME") {
        return PathBuf::from(d).join("waystation");
    }
    if let Some(h) = std::env::var_os("HOME") {
        return PathBuf::from(h).join(".local/share/waystation");
    }
    PathBuf::from(".waystation")
}

fn parse_time(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .with_context(|| format!("'{s}' is not an RFC 3339 time such as 2026-11-30T12:00:00+08:00"))
}

fn payload_type(t: &str) -> String {
    match t {
        "stations" | "station" => STATION_PACK_TYPE.to_string(),
        other => other.to_string(),
    }
}

impl Cli {
    fn trusted_keys(&self) -> Result<Vec<TrustedKey>> {
        let mut keys = Vec::new();
        if !self.no_demo_key {
            keys.push(packs::demo_trusted_key());
        }
        for path in &self.trust_key {
            let bytes = files::read_bounded(path, "key file", files::MAX_KEY_FILE_BYTES)?;
            let key: TrustedKey = serde_json::from_slice(&bytes).with_context(|| {
                format!(
                    "{} is not a key file with key_id and public_key",
                    path.display()
                )
            })?;
            keys.push(key);
        }
        Ok(keys)
    }

    fn open(&self) -> Result<Waystation> {
        let dir = self.data_dir.clone().unwrap_or_else(default_data_dir);
        let fresh = !dir.join(waystation_core::store::DB_FILE).exists();
        let options = Options {
            trusted_keys: self.trusted_keys()?,
            ..Options::default()
        };
        let ws = Waystation::open(&dir, options)?;
        if fresh && !self.no_demo_key && ws.packs().installed()?.is_empty() {
            let outcome = ws
                .packs()
                .import_stations(SAMPLE_PACK)
                .context("installing the bundled sample pack")?;
            eprintln!(
                "New data directory {}: installed the bundled Xi'an sample pack ({} stations, synthetic positions).",
                dir.display(),
                outcome.stations
            );
        }
        Ok(ws)
    }
}

fn filter_from(args: &FilterArgs) -> Result<(StationFilter, Option<DateTime<Utc>>)> {
    let services = ServiceSet::parse(&args.services)?.to_vec();
    let at = args.open_at.as_deref().map(parse_time).transpose()?;
    let filter = StationFilter {
        services,
        open_only: args.open_now || at.is_some(),
        max_distance_m: args.max_distance,
    };
    Ok((filter, at))
}

fn position_from(p: &PositionArgs) -> Result<Position> {
    let datum: Datum = p.datum.parse()?;
    Ok(Position::new(p.lat, p.lon, datum)?)
}

fn run(cli: &Cli) -> Result<()> {
    match &cli.command {
        Command::Stations(cmd) => stations(cli, cmd),
        Command::Coord(CoordCmd::Convert { from, to, lat, lon }) => {
            let from: Datum = from.parse()?;
            let to: Datum = to.parse()?;
            let p = Position::new(*lat, *lon, from)?.to_datum(to)?;
            println!("{}", serde_json::json!({ "lat": p.lat, "lon": p.lon }));
            Ok(())
        }
        Command::Hours(HoursCmd::Check { spec, at }) => {
            let at = match at {
                Some(s) => parse_time(s)?,
                None => waystation_core::Clock::now(&waystation_core::SystemClock),
            };
            let state = Hours::parse(Some(spec)).state_at(at);
            println!("{}", output::hours_json(&state));
            Ok(())
        }
        Command::Pack(cmd) => pack(cli, cmd),
        Command::Training(cmd) => training::run(&cli.open()?, !cli.no_demo_key, cmd),
        Command::Report(cmd) => report::run(&cli.open()?, cmd),
        Command::Case(cmd) => case::run(&cli.open()?, cmd),
        Command::Sync(cmd) => sync::run(&cli.open()?, cmd),
        Command::Demo(args) => demo::run(args),
    }
}

fn stations(cli: &Cli, cmd: &StationsCmd) -> Result<()> {
    let ws = cli.open()?;
    match cmd {
        StationsCmd::Import { file } => {
            let bytes = files::read_bounded(file, "pack", packs::DEFAULT_MAX_PACK_BYTES)?;
            let o = ws.packs().import_stations(&bytes)?;
            if o.unchanged {
                println!(
                    "{} version {} is already installed; nothing changed.",
                    o.pack_id, o.version
                );
            } else {
                println!(
                    "Installed {} version {} ({} stations{}{}).",
                    o.pack_id,
                    o.version,
                    o.stations,
                    o.previous_version
                        .map(|v| format!(", replacing version {v}"))
                        .unwrap_or_default(),
                    if o.unparseable_hours > 0 {
                        format!(
                            ", {} with unparseable hours shown as unknown",
                            o.unparseable_hours
                        )
                    } else {
                        String::new()
                    }
                );
            }
        }
        StationsCmd::Nearest {
            position,
            filter: fargs,
            limit,
        } => {
            let (filter, at) = filter_from(fargs)?;
            let q = NearestQuery {
                position: position_from(position)?,
                limit: *limit,
                filter,
                at,
            };
            let hits = ws.stations().nearest(&q)?;
            output::hits(&hits, fargs.json, at.unwrap_or_else(|| ws.now()))?;
        }
        StationsCmd::Within {
            position,
            radius,
            filter,
        } => {
            let (f, at) = filter_from(filter)?;
            let hits = ws.stations().within(&WithinQuery {
                center: position_from(position)?,
                radius_m: *radius,
                filter: f,
                at,
            })?;
            output::hits(&hits, filter.json, at.unwrap_or_else(|| ws.now()))?;
        }
        StationsCmd::Show { id, json } => {
            let s = ws.stations().get(id)?;
            output::station(&s, *json, ws.now())?;
        }
        StationsCmd::Search { text, limit, json } => {
            let found = ws.stations().search(text, *limit)?;
            output::station_list(&found, *json)?;
        }
        StationsCmd::Packs { json } => output::packs(&ws.packs().installed()?, *json)?,
    }
    Ok(())
}

fn write_new(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("cannot create {} (it must not exist yet)", path.display()))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}

fn pack(cli: &Cli, cmd: &PackCmd) -> Result<()> {
    match cmd {
        PackCmd::Keygen { key_id, out } => {
            if key_id.trim().is_empty() {
                bail!("--key-id must not be empty");
            }
            let kp = PublisherKeyPair::generate(key_id)?;
            let mut json = serde_json::to_vec_pretty(&kp)?;
            json.push(b'\n');
            write_new(out, &json)?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(out, std::fs::Permissions::from_mode(0o600))?;
            }
            println!(
                "{}",
                serde_json::json!({ "key_id": kp.key_id, "public_key": kp.public_key })
            );
        }
        PackCmd::Sign {
            key,
            input,
            out,
            r#type,
        } => {
            let kp = PublisherKeyPair::from_json(&files::read_bounded(
                key,
                "key file",
                files::MAX_KEY_FILE_BYTES,
            )?)?;
            let payload = files::read_bounded(input, "payload", packs::DEFAULT_MAX_PACK_BYTES)?;
            serde_json::from_slice::<serde_json::Value>(&payload)
                .with_context(|| format!("{} is not valid JSON", input.display()))?;
            let sealed = packs::seal(&payload, &payload_type(r#type), &kp)?;
            std::fs::write(out, &sealed)
                .with_context(|| format!("cannot write {}", out.display()))?;
            println!(
                "Signed {} as {} ({} bytes, key {}).",
                input.display(),
                out.display(),
                sealed.len(),
                kp.key_id
            );
        }
        PackCmd::Verify { file, r#type } => {
            let bytes = files::read_bounded(file, "pack", packs::DEFAULT_MAX_PACK_BYTES)?;
            let v = packs::open(
                &bytes,
                &payload_type(r#type),
                &cli.trusted_keys()?,
                packs::DEFAULT_MAX_PACK_BYTES,
            )?;
            println!(
                "{}",
                serde_json::json!({ "valid": true, "key_id": v.key_id, "sha256": v.payload_sha256 })
            );
        }
    }
    Ok(())
}

/// Lets a reader that stops early (`waystation … | head -1`) end the command the way it ends
/// `cat` or `grep`: killed by SIGPIPE, which shells report as exit status 141, with nothing
/// printed. Rust's runtime ignores SIGPIPE, so a write to a closed pipe would instead fail with
/// EPIPE and `println!` would panic ("failed printing to stdout", exit 101). Every socket write
/// the command makes (sync, the demo's in-process server) goes through Rust's standard library,
/// which passes MSG_NOSIGNAL on Linux and sets SO_NOSIGPIPE on Apple systems, so only pipes
/// raise the signal. What the command stores is in SQLite transactions, so being ended there
/// loses nothing, exactly as an interrupt would not.
fn end_quietly_on_a_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: `signal` with SIG_DFL installs no handler code; it runs first thing in `main`,
    // before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn main() {
    end_quietly_on_a_closed_pipe();
    let cli = Cli::parse();
    if let Err(e) = run(&cli) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
