//! How the command prints results: aligned text for people, JSON for scripts.

use anyhow::Result;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use waystation_core::packs::InstalledPack;
use waystation_core::stations::hours::china_offset;
use waystation_core::stations::{HoursState, OpenStatus, Station, StationHit};

fn local(t: DateTime<Utc>) -> String {
    t.with_timezone(&china_offset())
        .format("%m-%d %H:%M")
        .to_string()
}

fn rfc3339(t: Option<DateTime<Utc>>) -> Value {
    t.map(|t| Value::String(t.with_timezone(&china_offset()).to_rfc3339()))
        .unwrap_or(Value::Null)
}

/// `{"status": …, "next_change": …}`, the contract of `hours check`.
pub fn hours_json(state: &HoursState) -> Value {
    json!({ "status": state.status.as_str(), "next_change": rfc3339(state.next_change) })
}

fn compass(bearing: f64) -> &'static str {
    const POINTS: [&str; 8] = ["N", "NE", "E", "SE", "S", "SW", "W", "NW"];
    POINTS[(((bearing + 22.5) / 45.0).floor() as usize) % 8]
}

fn status_text(status: OpenStatus, next: Option<DateTime<Utc>>) -> String {
    match (status, next) {
        (OpenStatus::Open, Some(n)) => format!("open until {}", local(n)),
        (OpenStatus::Open, None) => "open".into(),
        (OpenStatus::Closed, Some(n)) => format!("closed, opens {}", local(n)),
        (OpenStatus::Closed, None) => "closed".into(),
        (OpenStatus::Unknown, _) => "hours unknown".into(),
    }
}

fn station_json(s: &Station) -> Value {
    serde_json::to_value(s).unwrap_or(Value::Null)
}

fn services_text(s: &Station) -> String {
    s.services
        .iter()
        .map(|x| x.label_en())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Prints search hits.
pub fn hits(hits: &[StationHit], as_json: bool, at: DateTime<Utc>) -> Result<()> {
    if as_json {
        let list: Vec<Value> = hits
            .iter()
            .map(|h| {
                json!({
                    "station": station_json(&h.station),
                    "distance_m": (h.distance_m * 10.0).round() / 10.0,
                    "bearing_deg": (h.bearing_deg * 10.0).round() / 10.0,
                    "status": h.status.as_str(),
                    "next_change": rfc3339(h.next_change),
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(());
    }
    if hits.is_empty() {
        println!(
            "No station matches (evaluated at {} Xi'an time).",
            local(at)
        );
        return Ok(());
    }
    println!("Evaluated at {} Xi'an time (UTC+8):", local(at));
    for (i, h) in hits.iter().enumerate() {
        let s = &h.station;
        println!(
            "{:>2}. {:>6.0} m {:<2} {:<24} {}  {}{}",
            i + 1,
            h.distance_m,
            compass(h.bearing_deg),
            status_text(h.status, h.next_change),
            s.id,
            s.name_zh,
            s.name_en
                .as_deref()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default(),
        );
        println!("              {}  ·  {}", s.address_zh, services_text(s));
    }
    Ok(())
}

/// Prints one station in full.
pub fn station(s: &Station, as_json: bool, now: DateTime<Utc>) -> Result<()> {
    if as_json {
        println!("{}", serde_json::to_string_pretty(&station_json(s))?);
        return Ok(());
    }
    let state = waystation_core::stations::Hours::parse(s.opening_hours.as_deref()).state_at(now);
    println!("{}  {}", s.id, s.name_zh);
    if let Some(en) = &s.name_en {
        println!("    {en}");
    }
    println!("Address:   {}", s.address_zh);
    if let Some(en) = &s.address_en {
        println!("           {en}");
    }
    println!("District:  {}", s.district);
    println!(
        "Position:  {:.6}, {:.6} WGS-84 (published as {:.6}, {:.6} {})",
        s.position.lat,
        s.position.lon,
        s.source_position.lat,
        s.source_position.lon,
        s.source_position.datum
    );
    println!("Services:  {}", services_text(s));
    println!(
        "Hours:     {}  [{}]",
        s.opening_hours.as_deref().unwrap_or("not published"),
        status_text(state.status, state.next_change)
    );
    if let Some(p) = &s.phone {
        println!("Phone:     {p}");
    }
    if let Some(o) = &s.operator {
        println!("Operator:  {o}");
    }
    if let Some(d) = s.last_verified {
        println!("Verified:  {d}");
    }
    Ok(())
}

/// Prints a list of stations (search results).
pub fn station_list(list: &[std::sync::Arc<Station>], as_json: bool) -> Result<()> {
    if as_json {
        let v: Vec<Value> = list.iter().map(|s| station_json(s)).collect();
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    if list.is_empty() {
        println!("No station matches.");
    }
    for s in list {
        println!("{}  {}  {}", s.id, s.name_zh, s.address_zh);
    }
    Ok(())
}

/// Prints installed packs.
pub fn packs(list: &[InstalledPack], as_json: bool) -> Result<()> {
    if as_json {
        println!("{}", serde_json::to_string_pretty(list)?);
        return Ok(());
    }
    for p in list {
        println!(
            "{} v{} ({}) by {}, key {}, installed {}{}",
            p.pack_id,
            p.version,
            p.kind,
            p.publisher,
            p.key_id,
            p.installed_at,
            if p.synthetic {
                ", synthetic positions"
            } else {
                ""
            }
        );
    }
    Ok(())
}
