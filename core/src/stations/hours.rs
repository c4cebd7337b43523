//! Opening hours: OSM `opening_hours` strings evaluated in China's time zone.
//!
//! Parsing and evaluation are done by the maintained `opening-hours` crate (it handles
//! `Mo off`, `PH off`, seasons and overnight ranges), with the public-holiday calendar for
//! China attached so that `PH` rules work. Evaluation is in Asia/Shanghai, which is UTC+8 all
//! year (no daylight saving since 1991), so a fixed offset is exact.
//!
//! Unknown is a value: missing, unparseable and `unknown` rules all give
//! [`OpenStatus::Unknown`], never Open.
//!
//! Known gap: the holiday calendar does not know China's make-up working days (调休), so a
//! Sunday that is officially a working day is still evaluated as a Sunday.

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone, Utc};
use opening_hours::localization::Country;
use opening_hours::{Context, OpeningHours, RuleKind};
use serde::{Deserialize, Serialize};
use std::sync::LazyLock;

/// Asia/Shanghai: UTC+8, no daylight saving.
pub fn china_offset() -> FixedOffset {
    // 8 hours is within FixedOffset's ±24 h range, so this cannot fail.
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

/// China's holidays, and a bound on how far ahead a next change is searched: a state that
/// lasts longer than this is treated as lasting for ever (without it, "Mo-Su unknown" makes the
/// library walk the calendar to the year 9999, which takes most of a second).
static CN_CONTEXT: LazyLock<Context> = LazyLock::new(|| {
    Context::default()
        .with_holidays(Country::CN.holidays())
        .approx_bound_interval_size(chrono::TimeDelta::days(NEXT_CHANGE_HORIZON_DAYS))
});

/// How far ahead [`Hours::state_at`] looks for the next change.
pub const NEXT_CHANGE_HORIZON_DAYS: i64 = 400;

/// Longest opening-hours string evaluated, in characters: OpenStreetMap's limit for a tag
/// value, and the station pack's. Evaluating grows faster than the string (in a debug build a
/// 12,000-character list of ranges takes half a second and a 190,000-character one 15 s), and
/// the FFI's `hours_status` and the CLI's `hours check` take strings from anywhere; a longer
/// string is unparseable, so its status is unknown.
pub const MAX_OPENING_HOURS_CHARS: usize = 255;

/// Whether a station is open at a moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "lowercase")]
pub enum OpenStatus {
    /// Open by its published hours.
    Open,
    /// Closed by its published hours.
    Closed,
    /// Hours are missing, unparseable or say "unknown". Never treat as open.
    Unknown,
}

impl OpenStatus {
    /// `open`, `closed` or `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            OpenStatus::Open => "open",
            OpenStatus::Closed => "closed",
            OpenStatus::Unknown => "unknown",
        }
    }
}

/// The status at a moment, and when it next changes (when the hours say).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct HoursState {
    /// Status at the moment asked about.
    pub status: OpenStatus,
    /// When the status next changes, if known and within the calendar the library evaluates.
    pub next_change: Option<DateTime<Utc>>,
}

/// A parsed opening-hours specification, or the reason it is unknown.
#[derive(Clone, Debug)]
pub enum Hours {
    /// A valid OSM expression.
    Parsed(Box<OpeningHours>),
    /// No hours were published.
    Missing,
    /// The string did not parse; the station's status is Unknown.
    Unparseable(String),
}

impl Hours {
    /// Parses an OSM `opening_hours` string; `None`, empty, and bad strings give non-Parsed.
    pub fn parse(spec: Option<&str>) -> Hours {
        let Some(spec) = spec.map(str::trim).filter(|s| !s.is_empty()) else {
            return Hours::Missing;
        };
        if spec.chars().nth(MAX_OPENING_HOURS_CHARS).is_some() {
            return Hours::Unparseable(format!(
                "opening hours are longer than {MAX_OPENING_HOURS_CHARS} characters"
            ));
        }
        match spec.parse::<OpeningHours>() {
            Ok(oh) => Hours::Parsed(Box::new(oh.with_context(CN_CONTEXT.clone()))),
            Err(e) => Hours::Unparseable(e.to_string()),
        }
    }

    /// Whether the spec parsed.
    pub fn is_parsed(&self) -> bool {
        matches!(self, Hours::Parsed(_))
    }

    fn local(at: DateTime<Utc>) -> NaiveDateTime {
        at.with_timezone(&china_offset()).naive_local()
    }

    /// Status at `at` (cheap: no next-change search).
    pub fn status_at(&self, at: DateTime<Utc>) -> OpenStatus {
        match self {
            Hours::Parsed(oh) => match oh.state(Self::local(at)).0 {
                RuleKind::Open => OpenStatus::Open,
                RuleKind::Closed => OpenStatus::Closed,
                RuleKind::Unknown => OpenStatus::Unknown,
            },
            Hours::Missing | Hours::Unparseable(_) => OpenStatus::Unknown,
        }
    }

    /// Status at `at` and the next change.
    pub fn state_at(&self, at: DateTime<Utc>) -> HoursState {
        let status = self.status_at(at);
        let next_change = match self {
            Hours::Parsed(oh) => oh
                .next_change(Self::local(at))
                .and_then(|n| china_offset().from_local_datetime(&n).single())
                .map(|d| d.with_timezone(&Utc)),
            _ => None,
        };
        HoursState {
            status,
            next_change,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn evaluates_in_china_time() {
        let h = Hours::parse(Some("Mo-Fr 08:00-18:00"));
        // 2026-11-30 is a Monday. 00:30Z is 08:30 in Xi'an: open.
        let s = h.state_at(at("2026-11-30T00:30:00Z"));
        assert_eq!(s.status, OpenStatus::Open);
        assert_eq!(s.next_change, Some(at("2026-11-30T10:00:00Z")));
        // 23:30Z Sunday is 07:30 Monday in Xi'an: closed, opens at 08:00 local.
        let s = h.state_at(at("2026-11-29T23:30:00Z"));
        assert_eq!(s.status, OpenStatus::Closed);
        assert_eq!(s.next_change, Some(at("2026-11-30T00:00:00Z")));
    }

    #[test]
    fn unknown_is_never_open() {
        for spec in [
            None,
            Some(""),
            Some("not hours at all"),
            Some("unknown"),
            Some("Mo-Su unknown"),
        ] {
            let h = Hours::parse(spec);
            assert_eq!(
                h.status_at(at("2026-11-30T04:00:00Z")),
                OpenStatus::Unknown,
                "{spec:?}"
            );
        }
        assert!(matches!(
            Hours::parse(Some("garbage 99:99")),
            Hours::Unparseable(_)
        ));
    }

    #[test]
    fn hours_longer_than_osm_allows_are_unknown_without_being_evaluated() {
        // 12,000 characters of valid ranges: evaluating them took half a second.
        let ranges: Vec<String> = (0..1000)
            .map(|i| {
                format!(
                    "{:02}:{:02}-{:02}:{:02}",
                    (i / 60) % 24,
                    i % 60,
                    (i / 60) % 24,
                    i % 60
                )
            })
            .collect();
        let long = format!("Mo-Su {}", ranges.join(","));
        let h = Hours::parse(Some(&long));
        match &h {
            Hours::Unparseable(why) => assert!(why.contains("longer than 255"), "{why}"),
            other => panic!("parsed: {}", other.is_parsed()),
        }
        assert_eq!(h.status_at(at("2026-11-30T04:00:00Z")), OpenStatus::Unknown);
        // 255 characters still parse.
        let mut edge = String::from("Mo-Su 10:00-11:00");
        while edge.chars().count() + 12 <= MAX_OPENING_HOURS_CHARS {
            edge.push_str(",12:00-13:00");
        }
        assert!(Hours::parse(Some(&edge)).is_parsed(), "{}", edge.len());
    }

    #[test]
    fn tricky_osm_rules() {
        // "Mo off" overrides an earlier all-week rule.
        let h = Hours::parse(Some("Mo-Su 09:00-17:00; Mo off"));
        assert_eq!(h.status_at(at("2026-11-30T03:00:00Z")), OpenStatus::Closed); // Monday 11:00
        assert_eq!(h.status_at(at("2026-12-01T03:00:00Z")), OpenStatus::Open); // Tuesday 11:00
        // Overnight ranges run past midnight.
        let h = Hours::parse(Some("Mo-Su 20:00-02:00"));
        assert_eq!(h.status_at(at("2026-11-30T17:30:00Z")), OpenStatus::Open); // 01:30 local
        assert_eq!(h.status_at(at("2026-11-30T19:00:00Z")), OpenStatus::Closed); // 03:00 local
        // "PH off" with China's calendar: 1 October is National Day.
        let h = Hours::parse(Some("Mo-Su 09:00-17:00; PH off"));
        assert_eq!(h.status_at(at("2026-10-01T03:00:00Z")), OpenStatus::Closed);
        assert_eq!(h.status_at(at("2026-10-20T03:00:00Z")), OpenStatus::Open);
        // 24/7 has no next change.
        let s = Hours::parse(Some("24/7")).state_at(at("2026-10-20T03:00:00Z"));
        assert_eq!(
            s,
            HoursState {
                status: OpenStatus::Open,
                next_change: None
            }
        );
    }
}
