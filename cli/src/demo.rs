//! `waystation demo`: the whole story on the embedded default, with a readable transcript.
//!
//! It starts a real sync server on loopback (SQLite in a temporary directory), creates three
//! accounts, and drives three devices (data directories) through the same core API the apps
//! use: a rider finds the nearest open station offline and files a food-safety report with a
//! photo; the rider syncs; the station acknowledges and dispatches; a supervisor adds a note
//! offline; everyone syncs and converges. It checks what it prints: the demo fails (non-zero
//! exit) if the devices do not converge.

use anyhow::{Context, Result, bail, ensure};
use clap::Args;
use std::path::{Path, PathBuf};

use waystation_core::geo::{Datum, Position};
use waystation_core::reports::{CaseEventKind, CaseRole, ReportPatch, ReportRules};
use waystation_core::stations::NearestQuery;
use waystation_core::stations::hours::china_offset;
use waystation_core::stations::{OpenStatus, Service, StationFilter};
use waystation_core::store::documents;
use waystation_core::sync::{ReqwestTransport, SyncReport, SyncSettings};
use waystation_core::{Options, Waystation};
use waystation_server::Role;

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Keep the server database and the three devices' data directories here (default: a
    /// temporary directory, removed at the end).
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,
}

/// Xiaozhai crossroads, Yanta district, as a phone map app (GCJ-02) gives it.
const RIDER_LAT: f64 = 34.22370;
const RIDER_LON: f64 = 108.94892;
const YANTA: &str = "610113";

fn local(t: chrono::DateTime<chrono::Utc>) -> String {
    t.with_timezone(&china_offset())
        .format("%H:%M:%S")
        .to_string()
}

fn say(who: &str, what: impl AsRef<str>) {
    println!("{who:<28} {}", what.as_ref());
}

fn segment(marker: u8, body: &[u8]) -> Vec<u8> {
    let mut s = vec![0xFF, marker];
    s.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
    s.extend_from_slice(body);
    s
}

/// A tiny valid JPEG as a phone camera writes it: with an EXIF block (which carries GPS on a
/// real phone) and a comment, both of which the core strips before storing.
fn camera_photo() -> Vec<u8> {
    let mut j = vec![0xFF, 0xD8];
    j.extend(segment(
        0xE0,
        b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00",
    ));
    j.extend(segment(
        0xE1,
        b"Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\x00\x00\x00\x00\x00GPS 34.2237N 108.9489E",
    ));
    j.extend(segment(0xFE, b"Xiaomi camera, rider's home address"));
    j.extend(segment(0xDB, &[[0u8].as_slice(), &[1u8; 64]].concat()));
    j.extend(segment(0xC0, b"\x08\x00\x01\x00\x01\x01\x01\x11\x00"));
    j.extend(segment(0xC4, &[[0u8, 1].as_slice(), &[0u8; 16]].concat()));
    j.extend(segment(
        0xC4,
        &[[0x10u8, 1].as_slice(), &[0u8; 16]].concat(),
    ));
    j.extend(segment(0xDA, b"\x01\x01\x00\x00\x3f\x00"));
    j.extend_from_slice(b"\x3f\xff\xd9");
    j
}

struct Device {
    name: &'static str,
    user: &'static str,
    ws: Waystation,
    settings: SyncSettings,
}

impl Device {
    fn open(
        dir: &Path,
        name: &'static str,
        user: &'static str,
        server: &str,
        token: &str,
    ) -> Result<Device> {
        let ws = Waystation::open(
            &dir.join(user),
            Options {
                trusted_keys: vec![waystation_core::packs::demo_trusted_key()],
                ..Options::default()
            },
        )?;
        Ok(Device {
            name,
            user,
            ws,
            settings: SyncSettings::new(server, token)?,
        })
    }

    fn sync(&self, http: &ReqwestTransport) -> Result<SyncReport> {
        let r = self
            .ws
            .sync()
            .run(&self.settings, http, &waystation_core::CancelToken::never())
            .with_context(|| format!("{} could not sync", self.name))?;
        say(
            self.name,
            format!(
                "syncs: {} sent, {} received, {} photo(s) up, {} request(s), {} B up / {} B down",
                r.documents_sent,
                r.documents_received,
                r.photos_uploaded,
                r.requests,
                r.bytes_sent,
                r.bytes_received
            ),
        );
        for x in &r.refused {
            say(self.name, format!("  refused {}: {}", x.doc_id, x.reason));
        }
        Ok(r)
    }
}

fn case_line(d: &Device, report: &str) -> Result<String> {
    let case = d.ws.cases().get(report)?;
    let heads = documents::info(&d.ws.store().read(), &format!("case:{report}"))?
        .map(|i| i.heads)
        .unwrap_or_default();
    let tag: String = heads
        .iter()
        .map(|h| h.to_string()[..8].to_string())
        .collect::<Vec<_>>()
        .join(",");
    Ok(format!(
        "case {} · {} event(s) · heads {}",
        case.status.as_str(),
        case.timeline.len(),
        tag
    ))
}

pub fn run(args: &DemoArgs) -> Result<()> {
    let temp;
    let dir: &Path = match &args.keep {
        Some(d) => {
            std::fs::create_dir_all(d).with_context(|| format!("cannot create {}", d.display()))?;
            if std::fs::read_dir(d)?.next().is_some() {
                bail!("{} is not empty; the demo starts from nothing", d.display());
            }
            d
        }
        None => {
            temp = tempfile::tempdir()?;
            temp.path()
        }
    };
    let db = dir.join("server.db");
    let server = waystation_server::spawn_on_thread(&db, "127.0.0.1:0".parse()?)?;
    let url = server.url();
    println!(
        "Waystation demo — sync server on {url} (SQLite at {})",
        db.display()
    );
    println!();

    let year = chrono::Duration::days(365);
    let areas = vec![YANTA.to_string()];
    let rider_t = waystation_server::add_user(&db, "rider-wang", Role::Rider, &[], year)?;
    let station_t =
        waystation_server::add_user(&db, "station-xiaozhai", Role::Station, &areas, year)?;
    let sup_t = waystation_server::add_user(&db, "supervisor-li", Role::Supervisor, &areas, year)?;
    say(
        "[admin]",
        "accounts: rider-wang (rider), station-xiaozhai (station, Yanta 610113), \
         supervisor-li (supervisor, Yanta 610113)",
    );

    let http = ReqwestTransport::new(None)?;
    let rider = Device::open(dir, "[rider 王师傅]", "rider-wang", &url, &rider_t)?;
    let station = Device::open(
        dir,
        "[station 小寨红色驿站]",
        "station-xiaozhai",
        &url,
        &station_t,
    )?;
    let sup = Device::open(dir, "[supervisor 李老师]", "supervisor-li", &url, &sup_t)?;
    for d in [&rider, &station, &sup] {
        d.ws.packs().import_stations(crate::SAMPLE_PACK)?;
    }

    // 1. Offline: the nearest open station with water and charging.
    println!("\n— 1. The rider, offline, looks for the nearest open red station —");
    let here = Position::new(RIDER_LAT, RIDER_LON, Datum::Gcj02)?;
    let mut filter = StationFilter {
        services: vec![Service::DrinkingWater, Service::PhoneCharging],
        open_only: true,
        max_distance_m: None,
    };
    let mut hits = rider.ws.stations().nearest(&NearestQuery {
        position: here,
        limit: 3,
        filter: filter.clone(),
        at: None,
    })?;
    if hits.is_empty() {
        say(
            rider.name,
            "no station with water and charging is open now; nearest of any:",
        );
        filter.open_only = false;
        hits = rider.ws.stations().nearest(&NearestQuery {
            position: here,
            limit: 3,
            filter,
            at: None,
        })?;
    }
    for h in &hits {
        let status = match h.status {
            OpenStatus::Open => "open",
            OpenStatus::Closed => "closed",
            OpenStatus::Unknown => "hours unknown",
        };
        say(
            rider.name,
            format!(
                "{:>6.0} m  bearing {:>3.0}°  {}  ({status})",
                h.distance_m, h.bearing_deg, h.station.name_zh
            ),
        );
    }

    // 2. Offline: a food-safety report with a photo.
    println!("\n— 2. Still offline, the rider reports a torn food-safety seal —");
    let id = rider.ws.reports().create_draft(rider.user, "food.seal")?;
    let id = id.as_str().to_string();
    rider.ws.reports().update_draft(
        &id,
        &ReportPatch {
            description: Some("取餐时发现外卖封签已被撕开，商家称是打包员失误。".into()),
            merchant_name: Some("小寨某米线店".into()),
            merchant_address: Some("雁塔区小寨东路".into()),
            ..Default::default()
        },
    )?;
    rider.ws.reports().set_position(
        &id,
        &waystation_core::reports::PositionFix {
            lat: RIDER_LAT,
            lon: RIDER_LON,
            datum: Datum::Gcj02,
            accuracy_m: Some(12.0),
            fix_time: rider.ws.now(),
            mock: false,
        },
    )?;
    let raw = camera_photo();
    let photo = rider
        .ws
        .reports()
        .attach_photo(&id, &raw, &ReportRules::default())?;
    say(
        rider.name,
        format!(
            "photo: {} B from the camera, {} B stored without EXIF/GPS/comments (sha256 {}…)",
            raw.len(),
            photo.size_bytes,
            &photo.sha256[..12]
        ),
    );
    let report = rider
        .ws
        .reports()
        .submit(rider.user, &id, &ReportRules::default())?;
    say(
        rider.name,
        format!(
            "submitted report {id} in district {}; outbox: pending",
            report.district.as_deref().unwrap_or("?")
        ),
    );
    let s = rider.ws.sync().status()?;
    say(
        rider.name,
        format!(
            "sync status: {} document(s) and {} photo(s) pending",
            s.pending_documents, s.pending_photos
        ),
    );

    // 3. The rider is back online.
    println!("\n— 3. Back on signal, the rider syncs —");
    rider.sync(&http)?;
    let outbox = match rider.ws.reports().get(&id)?.outbox {
        Some(waystation_core::reports::OutboxState::Sent { at }) => {
            format!("sent at {}", local(at))
        }
        other => format!("{other:?}"),
    };
    say(rider.name, format!("outbox: {outbox}"));

    // 4. The station follows up.
    println!("\n— 4. The station receives it, acknowledges and dispatches to the grid —");
    station.sync(&http)?;
    let got = station.ws.reports().get(&id)?;
    say(
        station.name,
        format!(
            "new report: {} · {}",
            got.category.label_zh(),
            got.description.as_deref().unwrap_or("")
        ),
    );
    let path = station.ws.reports().fetch_photo(
        &station.settings,
        &http,
        &photo.sha256,
        &waystation_core::CancelToken::never(),
    )?;
    say(
        station.name,
        format!(
            "downloaded the photo on demand ({} B)",
            std::fs::metadata(path)?.len()
        ),
    );
    station.ws.cases().record(
        &id,
        station.user,
        CaseRole::StationStaff,
        CaseEventKind::Acknowledge,
        "已收到，正在联系商家",
    )?;
    station.ws.cases().record(
        &id,
        station.user,
        CaseRole::StationStaff,
        CaseEventKind::Dispatch {
            grid_id: "yanta-xiaozhai-03".into(),
        },
        "转小寨街道网格员",
    )?;
    say(station.name, case_line(&station, &id)?);
    station.sync(&http)?;

    // 5. The supervisor, offline, adds a note.
    println!("\n— 5. The supervisor syncs, then adds a note with no signal —");
    sup.sync(&http)?;
    sup.ws.cases().record(
        &id,
        sup.user,
        CaseRole::Supervisor,
        CaseEventKind::Note,
        "该商家上月也有类似投诉，建议上门检查封签流程",
    )?;
    say(sup.name, format!("offline: {}", case_line(&sup, &id)?));

    // 6. Everyone syncs and converges.
    println!("\n— 6. Everyone syncs —");
    sup.sync(&http)?;
    station.sync(&http)?;
    rider.sync(&http)?;
    println!();
    let mut lines = Vec::new();
    for d in [&rider, &station, &sup] {
        let line = case_line(d, &id)?;
        say(d.name, &line);
        lines.push(line);
    }
    ensure!(
        lines.windows(2).all(|w| w[0] == w[1]),
        "the devices did not converge"
    );
    println!("\nTimeline, as every device shows it:");
    for t in rider.ws.cases().get(&id)?.timeline {
        println!(
            "  {}  {:<14} {:<12} {}",
            local(t.event.at),
            t.event.role.as_str(),
            t.event.kind.name(),
            t.event.note.unwrap_or_default()
        );
    }
    let noop = rider.sync(&http)?;
    println!(
        "\nAll three devices converged. A sync with nothing to do: {} request, {} B up / {} B down.",
        noop.requests, noop.bytes_sent, noop.bytes_received
    );
    server.shutdown();
    if let Some(d) = &args.keep {
        println!("Kept the server database and devices in {}", d.display());
    }
    Ok(())
}
