//! Shared fixtures for Waystation's end-to-end tests: deterministic synthetic station packs
//! signed with a test key, so tests never depend on wall time or luck.

use serde_json::{Value, json};
use waystation_core::packs::{self, PublisherKeyPair, TrustedKey};
use waystation_core::stations::STATION_PACK_TYPE;

/// A small deterministic PRNG (SplitMix64), so fixtures need no extra crates.
pub struct SplitMix(pub u64);

impl SplitMix {
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Uniform index below n.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// The key test packs are signed with.
pub fn test_key() -> PublisherKeyPair {
    PublisherKeyPair::from_seed("test-publisher", [42u8; 32])
}

/// The trusted-key list that accepts [`test_key`].
pub fn trusted() -> Vec<TrustedKey> {
    vec![test_key().trusted_key()]
}

/// Opening-hours strings used by synthetic stations, including unknown and broken ones.
pub const HOURS: &[Option<&str>] = &[
    Some("24/7"),
    Some("Mo-Su 08:00-20:00"),
    Some("Mo-Fr 09:00-18:00; Sa,Su 10:00-16:00"),
    Some("Mo-Su 07:00-22:00"),
    Some("Mo-Fr 08:30-17:30; PH off"),
    Some("Mo-Su 20:00-02:00"),
    Some("Mo-Su unknown"),
    Some("白天营业"),
    None,
];

/// Service name mixes used by synthetic stations.
pub const SERVICE_MIXES: &[&[&str]] = &[
    &["drinking_water", "rest_area", "phone_charging"],
    &[
        "drinking_water",
        "rest_area",
        "phone_charging",
        "ebike_charging",
        "first_aid_kit",
    ],
    &["drinking_water", "microwave", "toilet", "first_aid_kit"],
    &["drinking_water", "rest_area", "legal_aid", "union_desk"],
    &["ebike_charging", "battery_swap"],
];

/// A payload with `n` stations scattered around Xi'an (WGS-84), deterministic in `seed`.
pub fn synthetic_payload(pack_id: &str, version: u64, n: usize, seed: u64) -> Value {
    let mut rng = SplitMix(seed);
    let stations: Vec<Value> = (0..n)
        .map(|i| {
            let hours = HOURS[rng.below(HOURS.len())];
            let mut s = json!({
                "id": format!("{pack_id}-{i:06}"),
                "name": {"zh": format!("测试驿站{i}号"), "en": format!("Test station {i}")},
                "position": {"lat": rng.range(34.0, 34.5), "lon": rng.range(108.6, 109.3), "datum": "wgs84"},
                "address": {"zh": format!("测试路{i}号")},
                "district": "610113",
                "services": SERVICE_MIXES[rng.below(SERVICE_MIXES.len())],
            });
            if let Some(h) = hours {
                s["opening_hours"] = json!(h);
            }
            s
        })
        .collect();
    json!({
        "format": "waystation/station-pack",
        "format_version": 1,
        "pack_id": pack_id,
        "version": version,
        "publisher": "Test publisher",
        "created": "2026-11-01T00:00:00Z",
        "synthetic": true,
        "stations": stations,
    })
}

/// Signs a payload value into pack bytes with [`test_key`].
pub fn sign(payload: &Value) -> Vec<u8> {
    let bytes = serde_json::to_vec(payload).expect("payload serialises");
    packs::seal(&bytes, STATION_PACK_TYPE, &test_key()).expect("sealing works")
}
