//! `waystation-server`: serve the sync protocol, and administer accounts, tokens and packs.

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use waystation_core::SystemClock;
use waystation_core::packs::{self, TrustedKey};
use waystation_server::{
    Admin, PackKind, Quotas, Role, ServerConfig, TlsFiles, UserChange, UserInfo, WriteQueue,
};

#[derive(Parser, Debug)]
#[command(
    name = "waystation-server",
    version,
    about = "Waystation sync server: riders' reports, cases and training progress, photos and packs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the /v1 sync protocol.
    Serve {
        /// The database: a SQLite file (created when missing) or a PostgreSQL URL,
        /// postgres://user:password@host:port/database (decision 0011).
        #[arg(long)]
        db: PathBuf,
        /// Address to listen on; port 0 picks a free one (printed on start).
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Serve HTTPS with this certificate chain (PEM); needs --tls-key.
        #[arg(long, requires = "tls_key", value_name = "PEM")]
        tls_cert: Option<PathBuf>,
        /// The certificate's private key (PEM); needs --tls-cert.
        #[arg(long, requires = "tls_cert", value_name = "PEM")]
        tls_key: Option<PathBuf>,
        /// Requests per minute each account may send (also its burst); past it the server
        /// answers 429 with Retry-After. 0 turns the limit off.
        #[arg(long, value_name = "N", default_value_t = waystation_server::limit::DEFAULT_REQUESTS_PER_MINUTE)]
        requests_per_minute: u32,
        /// Seconds a request's headers or body may stall, no byte arriving, before the request
        /// is dropped (a body gets 408). Bounds the gaps, not the whole upload.
        #[arg(long, value_name = "SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
        idle_timeout_secs: u64,
        /// Requests with a missing or bad token per minute from one address (also its burst);
        /// past it every request from that address gets 429 for a while. 0 turns the limit off
        /// (behind a reverse proxy, where every client has the proxy's address).
        #[arg(long, value_name = "N", default_value_t = waystation_server::limit::DEFAULT_FAILED_LOGINS_PER_MINUTE)]
        failed_logins_per_minute: u32,
        /// A reverse proxy in front of the server (e.g. 127.0.0.1 for nginx on the same
        /// machine): for its requests the failed-login limit counts the client address it
        /// appends to X-Forwarded-For. Repeat for several.
        #[arg(long = "trusted-proxy", value_name = "IP")]
        trusted_proxies: Vec<std::net::IpAddr>,
        /// Most writes waiting for their turn at once; one more gets 503 busy with Retry-After.
        #[arg(long, value_name = "N", default_value_t = waystation_server::DEFAULT_WRITE_QUEUE.max_waiting)]
        write_queue: usize,
        /// Longest a write waits for its turn before it gets 503 busy, in milliseconds.
        #[arg(long, value_name = "MS", default_value_t = 5000, value_parser = clap::value_parser!(u64).range(1..=60_000))]
        write_wait_ms: u64,
        /// Connections this instance keeps at most to a PostgreSQL database (ignored on
        /// SQLite). Size the database's max_connections for this times the instances.
        #[arg(long, value_name = "N", default_value_t = waystation_server::db::DEFAULT_DB_POOL as u64, value_parser = clap::value_parser!(u64).range(1..=1000))]
        db_pool: u64,
        /// Most documents (reports, training progress) one account may keep. 0: no limit.
        #[arg(long, value_name = "N", default_value_t = 20_000)]
        quota_documents: u64,
        /// Most MiB one account's documents and uploaded photos may take. 0: no limit.
        #[arg(long, value_name = "MIB", default_value_t = 4096)]
        quota_mib: u64,
        /// Most uploaded photos one account may have that none of its reports names yet.
        /// 0: no limit.
        #[arg(long, value_name = "N", default_value_t = 500)]
        quota_unlinked_photos: u64,
        /// Days an uploaded photo that no report of its uploader names is kept before the
        /// server forgets it.
        #[arg(long, value_name = "DAYS", default_value_t = 7, value_parser = clap::value_parser!(i64).range(1..=365))]
        unlinked_photo_grace_days: i64,
    },
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCmd),
    /// Issue and revoke bearer tokens.
    #[command(subcommand)]
    Token(TokenCmd),
    /// Publish signed station and training packs.
    #[command(subcommand)]
    Pack(PackCmd),
    /// Look after the database.
    #[command(subcommand)]
    Db(DbCmd),
}

#[derive(Subcommand, Debug)]
enum DbCmd {
    /// After restoring a backup: tell devices to offer everything they hold again, so what
    /// the backup lacks comes back from the phones.
    MarkRestored {
        /// The database (the restored one): a SQLite file or a postgres:// URL.
        #[arg(long)]
        db: PathBuf,
    },
    /// Delete the reports withdrawn more than N days ago, with their cases and their photos
    /// no other report names (a retention period; decision 0009). Run it daily, e.g. from cron.
    /// Photos uploaded for reports that have not arrived yet stay for the grace period.
    PurgeWithdrawn {
        /// The database: a SQLite file or a postgres:// URL.
        #[arg(long)]
        db: PathBuf,
        /// The retention period, in days.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=36_500))]
        older_than_days: u32,
        /// Days an uploaded photo that no report of its uploader names is kept: give the
        /// value `serve` runs with.
        #[arg(long, value_name = "DAYS", default_value_t = 7, value_parser = clap::value_parser!(i64).range(1..=365))]
        unlinked_photo_grace_days: i64,
    },
    /// Copy a SQLite deployment into an empty PostgreSQL database: every account, token,
    /// document, photo and pack, with the feed positions and the generation, so devices sync on
    /// where they were and send nothing again. Stop the servers on the SQLite file first.
    ImportSqlite {
        /// The SQLite database file to copy (only read).
        #[arg(long)]
        from: PathBuf,
        /// The PostgreSQL database to copy into (postgres://…; created and migrated, empty).
        #[arg(long)]
        to: String,
    },
}

#[derive(Subcommand, Debug)]
enum UserCmd {
    /// Create an account and print its bearer token (shown once).
    Add {
        /// The database: a SQLite file or a postgres:// URL.
        #[arg(long)]
        db: PathBuf,
        /// User id: letters, digits, '.', '_', '-', '@'.
        #[arg(long)]
        name: String,
        /// rider, station, supervisor, grid or admin.
        #[arg(long)]
        role: String,
        /// A district code (six digits, GB/T 2260) a station, supervisor or grid account
        /// follows up. Repeat for several.
        #[arg(long = "area", value_name = "CODE")]
        areas: Vec<String>,
        /// Days until the token expires.
        #[arg(long, default_value_t = 90)]
        expires_days: i64,
    },
    /// List every account: role, areas and live tokens.
    List {
        /// The database: a SQLite file or a postgres:// URL.
        #[arg(long)]
        db: PathBuf,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Erase an account's personal data on request (PIPL art. 47): the account, its tokens
    /// and training progress, and its name on its reports and case events, which stay,
    /// attributed to no one. Devices replace their copies at their next sync (decision 0009).
    Erase {
        /// The database: a SQLite file or a postgres:// URL.
        #[arg(long)]
        db: PathBuf,
        /// The user id to erase.
        #[arg(long)]
        name: String,
    },
    /// Change an account's role or areas. Its devices get the reports of new areas at their
    /// next sync; documents of a removed area stay on them but get no more changes.
    Set {
        /// The database: a SQLite file or a postgres:// URL.
        #[arg(long)]
        db: PathBuf,
        /// The user id.
        #[arg(long)]
        name: String,
        /// The new role: rider, station, supervisor, grid or admin.
        #[arg(long)]
        role: Option<String>,
        /// The new areas, replacing the old ones (district codes). Repeat for several.
        #[arg(long = "area", value_name = "CODE", conflicts_with = "clear_areas")]
        areas: Vec<String>,
        /// Remove every area (for a change to rider or admin).
        #[arg(long)]
        clear_areas: bool,
    },
}

#[derive(Subcommand, Debug)]
enum TokenCmd {
    /// Issue another token for an account and print it (shown once).
    Issue {
        /// The database: a SQLite file or a postgres:// URL.
        #[arg(long)]
        db: PathBuf,
        /// The user id.
        #[arg(long)]
        user: String,
        /// Days until the token expires.
        #[arg(long, default_value_t = 90)]
        expires_days: i64,
    },
    /// Revoke a token, or every token of an account (a lost phone): requests with them are
    /// refused from now on.
    #[command(group = clap::ArgGroup::new("which").required(true))]
    Revoke {
        /// The database: a SQLite file or a postgres:// URL.
        #[arg(long)]
        db: PathBuf,
        /// The token.
        #[arg(long, group = "which")]
        token: Option<String>,
        /// Revoke every live token of this user id.
        #[arg(long, group = "which")]
        user: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
enum PackCmd {
    /// Verify a signed pack as a device would, then serve it as the latest of its kind.
    Publish {
        /// The database: a SQLite file or a postgres:// URL.
        #[arg(long)]
        db: PathBuf,
        /// stations or training.
        #[arg(long)]
        kind: String,
        /// The signed pack file (.pack.json).
        file: PathBuf,
        /// Trust packs signed by this publisher key (JSON with key_id and public_key).
        /// Repeat for several. Required: no key is trusted by default, not even the demo key
        /// (its secret is public, so anyone can sign a pack with it); a demo passes
        /// `--trust-key data/keys/demo-publisher.json` and is warned.
        #[arg(long, value_name = "FILE", required = true)]
        trust_key: Vec<PathBuf>,
        /// No effect: the demo key is never trusted unless a --trust-key names it. Kept so
        /// that scripts written for earlier versions still run.
        #[arg(long, hide = true)]
        no_demo_key: bool,
        /// A lesson image (JPEG, PNG or WebP) the training pack references by SHA-256; added
        /// before the pack is checked. Repeat for several. Images added once stay.
        #[arg(long = "image", value_name = "FILE")]
        images: Vec<PathBuf>,
    },
}

/// One account on one line: id, role, areas, live tokens.
fn user_line(u: &UserInfo) -> String {
    let areas = if u.areas.is_empty() {
        "-".to_string()
    } else {
        u.areas.join(",")
    };
    format!(
        "{}\t{}\tareas {}\t{} live token(s)",
        u.user, u.role, areas, u.live_tokens
    )
}

fn user_json(u: &UserInfo) -> serde_json::Value {
    serde_json::json!({
        "user": u.user,
        "role": u.role.as_str(),
        "areas": u.areas,
        "live_tokens": u.live_tokens,
        "created_at": u.created_at,
    })
}

fn expires(days: i64) -> Result<chrono::Duration> {
    if !(1..=3650).contains(&days) {
        bail!("--expires-days must be between 1 and 3650, got {days}");
    }
    Ok(chrono::Duration::days(days))
}

/// The publisher keys `--trust-key` names, and nothing else. Naming the demo key (whose secret
/// is in the repository) is allowed for demos and tests, with a warning.
fn trusted_keys(paths: &[PathBuf]) -> Result<Vec<TrustedKey>> {
    let demo = packs::demo_trusted_key();
    let mut keys = Vec::new();
    for path in paths {
        let bytes = std::fs::read(path)
            .with_context(|| format!("cannot read key file {}", path.display()))?;
        let key: TrustedKey = serde_json::from_slice(&bytes).with_context(|| {
            format!(
                "{} is not a key file with key_id and public_key",
                path.display()
            )
        })?;
        if key == demo {
            eprintln!(
                "warning: trusting the demo publisher key '{}' ({}): its secret is public, so \
                 anyone can sign packs with it; for demos and tests only",
                key.key_id,
                path.display()
            );
        }
        keys.push(key);
    }
    if keys.is_empty() {
        bail!("no trusted publisher key: name one with --trust-key KEY.json");
    }
    Ok(keys)
}

async fn serve(config: ServerConfig) -> Result<()> {
    let server = waystation_server::serve(config).await?;
    // Scripts and tests read this line to learn the port.
    println!("listening on {}", server.url());
    wait_for_signal().await;
    eprintln!("waystation-server: stopping");
    server.stopped().await;
    Ok(())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Serve {
            db,
            listen,
            tls_cert,
            tls_key,
            requests_per_minute,
            idle_timeout_secs,
            failed_logins_per_minute,
            trusted_proxies,
            write_queue,
            write_wait_ms,
            db_pool,
            quota_documents,
            quota_mib,
            quota_unlinked_photos,
            unlinked_photo_grace_days,
        } => {
            let tls = match (tls_cert, tls_key) {
                (Some(cert_pem), Some(key_pem)) => Some(TlsFiles { cert_pem, key_pem }),
                _ => None,
            };
            let config = ServerConfig {
                tls,
                clock: Arc::new(SystemClock),
                requests_per_minute: std::num::NonZeroU32::new(requests_per_minute),
                body_idle_timeout: std::time::Duration::from_secs(idle_timeout_secs),
                failed_logins_per_minute: std::num::NonZeroU32::new(failed_logins_per_minute),
                trusted_proxies,
                write_queue: WriteQueue {
                    max_waiting: write_queue,
                    max_wait: std::time::Duration::from_millis(write_wait_ms),
                },
                // At most 1000 (the parser's range), so it fits.
                db_pool: usize::try_from(db_pool).unwrap_or(usize::MAX),
                quotas: Quotas {
                    documents: (quota_documents > 0).then_some(quota_documents),
                    stored_bytes: (quota_mib > 0).then(|| quota_mib.saturating_mul(1024 * 1024)),
                    unlinked_photos: (quota_unlinked_photos > 0).then_some(quota_unlinked_photos),
                    unlinked_photo_grace: chrono::Duration::days(unlinked_photo_grace_days),
                },
                ..ServerConfig::new(&db, listen)
            };
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("starting the tokio runtime")?;
            runtime.block_on(serve(config))?;
        }
        Command::User(UserCmd::Add {
            db,
            name,
            role,
            areas,
            expires_days,
        }) => {
            let role: Role = role.parse().map_err(anyhow::Error::msg)?;
            let token = Admin::open(&db)?.add_user(&name, role, &areas, expires(expires_days)?)?;
            if role.case_role().is_some() && areas.is_empty() {
                eprintln!("warning: '{name}' has no --area, so it sees no one's reports");
            }
            eprintln!("Added {role} '{name}'. Its token (shown once):");
            println!("{token}");
        }
        Command::Token(TokenCmd::Issue {
            db,
            user,
            expires_days,
        }) => {
            let token = Admin::open(&db)?.issue_token(&user, expires(expires_days)?)?;
            println!("{token}");
        }
        Command::Token(TokenCmd::Revoke { db, token, user }) => {
            let admin = Admin::open(&db)?;
            if let Some(user) = user {
                let n = admin.revoke_user_tokens(&user)?;
                eprintln!("Revoked {n} live token(s) of '{user}'.");
            } else if let Some(token) = token {
                admin.revoke_token(&token)?;
                eprintln!("Revoked.");
            }
        }
        Command::User(UserCmd::List { db, json }) => {
            let users = Admin::open(&db)?.users()?;
            if json {
                let rows: Vec<_> = users.iter().map(user_json).collect();
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                for u in &users {
                    println!("{}", user_line(u));
                }
                if users.is_empty() {
                    eprintln!("No accounts yet: add one with 'user add'.");
                }
            }
        }
        Command::User(UserCmd::Set {
            db,
            name,
            role,
            areas,
            clear_areas,
        }) => {
            let role = role
                .map(|r| r.parse::<Role>())
                .transpose()
                .map_err(anyhow::Error::msg)?;
            let areas = (clear_areas || !areas.is_empty()).then_some(areas);
            let change = UserChange { role, areas };
            let admin = Admin::open(&db)?;
            let before = admin.user(&name)?;
            let after = admin.update_user(&name, &change)?;
            if after == before {
                eprintln!("Unchanged.");
            } else {
                eprintln!("Changed. Its devices see the new scope at their next sync.");
            }
            if after.role.case_role().is_some() && after.areas.is_empty() {
                eprintln!("warning: '{name}' has no area, so it sees no one's reports");
            }
            println!("{}", user_line(&after));
        }
        Command::User(UserCmd::Erase { db, name }) => {
            let done = waystation_server::erasure::erase_user(
                &db,
                &name,
                waystation_core::Clock::now(&SystemClock),
            )?;
            eprintln!(
                "Erased '{name}': {} report(s) and {} case(s) rewritten without the account, \
                 {} token(s) deleted{}. Devices replace their copies at their next sync.",
                done.reports,
                done.cases,
                done.tokens,
                if done.progress {
                    ", its training progress deleted"
                } else {
                    ""
                }
            );
        }
        Command::Db(DbCmd::PurgeWithdrawn {
            db,
            older_than_days,
            unlinked_photo_grace_days,
        }) => {
            let done = waystation_server::erasure::purge_withdrawn(
                &db,
                chrono::Duration::days(i64::from(older_than_days)),
                chrono::Duration::days(unlinked_photo_grace_days),
                waystation_core::Clock::now(&SystemClock),
            )?;
            eprintln!(
                "Purged {} report(s) withdrawn more than {older_than_days} day(s) ago, with their \
                 cases, and {} photo(s) no other report names (uploads within the \
                 {unlinked_photo_grace_days}-day grace period stay).",
                done.reports, done.photos
            );
        }
        Command::Db(DbCmd::ImportSqlite { from, to }) => {
            if !waystation_server::store::is_url(&to) {
                bail!("--to takes a postgres:// URL");
            }
            let done = waystation_server::store::postgres::import_sqlite(&from, &to)
                .map_err(waystation_server::AdminError::from)?;
            eprintln!(
                "Copied {} row(s) from {} into {}; the feed continues after position {}.",
                done.rows,
                from.display(),
                waystation_server::store::shown(&to),
                done.feed_position
            );
        }
        Command::Db(DbCmd::MarkRestored { db }) => {
            let generation = Admin::open(&db)?.mark_restored()?;
            eprintln!(
                "Marked as restored (generation {generation}): each device offers everything it \
                 holds again at its next sync."
            );
        }
        Command::Pack(PackCmd::Publish {
            db,
            kind,
            file,
            trust_key,
            no_demo_key: _,
            images,
        }) => {
            let kind: PackKind = kind.parse().map_err(anyhow::Error::msg)?;
            if kind != PackKind::Training && !images.is_empty() {
                bail!("--image is for training packs: only lessons show images");
            }
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let keys = trusted_keys(&trust_key)?;
            let admin = Admin::open(&db)?;
            for path in &images {
                let image = std::fs::read(path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                let (sha, new) = admin
                    .add_training_image(&image)
                    .with_context(|| format!("image {}", path.display()))?;
                let what = if new { "Added" } else { "Already had" };
                eprintln!("{what} image {sha} ({})", path.display());
            }
            let p = admin.publish_pack(kind, &bytes, &keys)?;
            let what = if p.changed {
                "Published"
            } else {
                "Already published"
            };
            println!(
                "{what} {} pack '{}' version {} ({} bytes, ETag \"{}\").",
                kind.as_str(),
                p.pack_id,
                p.version,
                p.bytes,
                p.etag
            );
        }
    }
    Ok(())
}

/// Lets a reader that stops early (`waystation-server user list … | head -1`) end an admin
/// command the way it ends `cat`: killed by SIGPIPE (exit status 141 in a shell), with nothing
/// printed, instead of a "failed printing to stdout" panic (exit 101). `serve` keeps Rust's
/// default of ignoring SIGPIPE: a server must outlive whatever reads its output.
fn end_quietly_on_a_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: `signal` with SIG_DFL installs no handler code; it runs before the command
    // starts any thread.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn main() {
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Serve { .. }) {
        end_quietly_on_a_closed_pipe();
    }
    if let Err(e) = run(cli) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
