//! The load from SQLite that builds the index: every field read back as the import stored it,
//! and a damaged row refused by name.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;

use super::{STATION_PACK_TYPE, Service, ServiceSet, StationIndex, import_pack, load_all};
use crate::geo::{Datum, Position};
use crate::packs::{self, PublisherKeyPair};
use crate::store::Store;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// A store with three stations, one per datum, with every optional field set on some and
/// unset on others.
fn installed() -> (tempfile::TempDir, Store) {
    let key = PublisherKeyPair::from_seed("load-test", [3u8; 32]);
    let payload = json!({
        "format": "waystation/station-pack",
        "format_version": 1,
        "pack_id": "load-test",
        "version": 1,
        "publisher": "Test publisher",
        "created": "2026-11-01T00:00:00Z",
        "stations": [
            {
                "id": "A-1",
                "name": {"zh": "雁塔驿站", "en": "Yanta station"},
                "position": {"lat": 34.2189, "lon": 108.9640, "datum": "gcj02"},
                "address": {"zh": "雁塔路1号", "en": "1 Yanta Road"},
                "district": "610113",
                "services": ["ebike_charging", "drinking_water"],
                "opening_hours": "Mo-Fr 09:00-18:00",
                "phone": "029-12345678",
                "operator": "雁塔区总工会",
                "last_verified": "2026-10-30"
            },
            {
                "id": "B-2",
                "name": {"zh": "碑林驿站"},
                "position": {"lat": 34.2660, "lon": 108.9560, "datum": "bd09"},
                "address": {"zh": "南大街2号"},
                "district": "610103",
                "services": []
            },
            {
                "id": "C-3",
                "name": {"zh": "新城驿站"},
                "position": {"lat": 34.2700, "lon": 108.9600, "datum": "wgs84"},
                "address": {"zh": "东五路3号"},
                "district": "610102",
                "services": ["toilet"],
                "opening_hours": "24/7"
            }
        ]
    });
    let bytes = serde_json::to_vec(&payload).unwrap();
    let envelope = packs::seal(&bytes, STATION_PACK_TYPE, &key).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    import_pack(
        &mut store.write(),
        &envelope,
        &[key.trusted_key()],
        1 << 20,
        at("2026-11-02T00:00:00Z"),
    )
    .unwrap();
    (dir, store)
}

#[test]
fn every_field_reads_back_as_imported() {
    let (_dir, store) = installed();
    let mut loaded = load_all(&store.read()).unwrap();
    loaded.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(loaded.len(), 3);
    let (a, b, c) = (&loaded[0], &loaded[1], &loaded[2]);

    assert_eq!(a.id, "A-1");
    assert_eq!(a.pack_id, "load-test");
    assert_eq!(a.name_zh, "雁塔驿站");
    assert_eq!(a.name_en.as_deref(), Some("Yanta station"));
    let source = Position::new(34.2189, 108.9640, Datum::Gcj02).unwrap();
    assert_eq!(a.source_position, source);
    assert_eq!(a.position, source.to_wgs84().unwrap());
    assert_eq!(a.position.datum, Datum::Wgs84);
    assert_eq!(a.address_zh, "雁塔路1号");
    assert_eq!(a.address_en.as_deref(), Some("1 Yanta Road"));
    assert_eq!(a.district, "610113");
    assert_eq!(
        a.services,
        ServiceSet::of(&[Service::DrinkingWater, Service::EbikeCharging])
    );
    assert_eq!(a.opening_hours.as_deref(), Some("Mo-Fr 09:00-18:00"));
    assert_eq!(a.phone.as_deref(), Some("029-12345678"));
    assert_eq!(a.operator.as_deref(), Some("雁塔区总工会"));
    assert_eq!(a.last_verified, NaiveDate::from_ymd_opt(2026, 10, 30));

    assert_eq!(b.source_position.datum, Datum::Bd09);
    assert_eq!(
        b.position,
        Position::new(34.2660, 108.9560, Datum::Bd09)
            .unwrap()
            .to_wgs84()
            .unwrap()
    );
    assert_eq!(b.name_en, None);
    assert_eq!(b.address_en, None);
    assert_eq!(b.services, ServiceSet::default());
    assert_eq!(b.opening_hours, None);
    assert_eq!(b.phone, None);
    assert_eq!(b.operator, None);
    assert_eq!(b.last_verified, None);

    assert_eq!(c.source_position, c.position);
    assert_eq!(c.source_position.datum, Datum::Wgs84);
    assert_eq!(c.opening_hours.as_deref(), Some("24/7"));

    // One allocation for the pack id, shared by all three.
    assert!(std::sync::Arc::ptr_eq(&a.pack_id.0, &c.pack_id.0));
    // The index keeps the loaded stations themselves, not copies.
    let index = StationIndex::build(loaded.clone());
    for s in &loaded {
        assert!(std::sync::Arc::ptr_eq(&index.get(&s.id).unwrap(), s));
    }
}

#[test]
fn a_damaged_row_is_refused_by_name() {
    let (_dir, store) = installed();
    let damage = |sql: &str| store.write().execute(sql, []).unwrap();
    let err = |store: &Store| load_all(&store.read()).unwrap_err().to_string();

    damage("UPDATE stations SET last_verified = 'last spring' WHERE id = 'A-1'");
    assert!(err(&store).contains("last_verified"), "{}", err(&store));
    damage("UPDATE stations SET last_verified = NULL WHERE id = 'A-1'");

    damage("UPDATE stations SET services = 1 << 30 WHERE id = 'B-2'");
    assert!(
        err(&store).contains("unknown service bits"),
        "{}",
        err(&store)
    );
    damage("UPDATE stations SET services = 0 WHERE id = 'B-2'");

    assert_eq!(load_all(&store.read()).unwrap().len(), 3);
}
