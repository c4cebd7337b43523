use super::*;

#[test]
fn text_fields_splice_only_what_changed_and_read_old_strings() {
    let mut doc = AutoCommit::new();
    let steps = [
        "外卖",
        "外卖封签被撕开",
        "外卖封签 torn 被撕开",
        "封签 torn 被撕开!",
        "a",
        "",
        "再来一次",
    ];
    for want in steps {
        put_text(&mut doc, "description", want).unwrap();
        let got = root_text(&doc, "description");
        assert_eq!(got.as_deref(), (!want.is_empty()).then_some(want));
    }
    // A plain string from an older build is read, then replaced by Text on edit.
    doc.put(ROOT, "address", "钟楼").unwrap();
    assert_eq!(root_text(&doc, "address").as_deref(), Some("钟楼"));
    put_text(&mut doc, "address", "钟楼东").unwrap();
    assert_eq!(root_text(&doc, "address").as_deref(), Some("钟楼东"));
    assert!(matches!(
        doc.get(ROOT, "address").unwrap(),
        Some((Value::Object(ObjType::Text), _))
    ));
}

fn sample() -> AutoCommit {
    let id = ReportId::parse("01900000-0000-7000-8000-000000000007").unwrap();
    let at = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
    let mut doc = genesis(&id, "rider-1", Category::FoodSeal, at).unwrap();
    doc.commit();
    for n in 1..=20 {
        let v: String = "外卖封签被撕开，餐盒有明显打开痕迹"
            .chars()
            .take(n)
            .collect();
        put_text(&mut doc, "description", &v).unwrap();
        doc.commit();
    }
    put_district(&mut doc, "610103").unwrap();
    put_position(
        &mut doc,
        &ReportPosition {
            lat: 34.25,
            lon: 108.94,
            datum: Datum::Gcj02,
            source_lat: 34.251,
            source_lon: 108.945,
            accuracy_m: None,
            fix_time: at,
            mock: true,
        },
    )
    .unwrap();
    let photo = ReportPhoto {
        sha256: "ab".repeat(32),
        media_type: "image/jpeg".into(),
        size_bytes: 1234,
        width: Some(1),
        height: None,
    };
    put_photo(&mut doc, &photo, at).unwrap();
    // A field this version does not know (written by a newer app) survives a rebuild.
    let extra = doc.put_object(ROOT, "future", ObjType::List).unwrap();
    doc.insert(&extra, 0, ScalarValue::Counter(3.into()))
        .unwrap();
    doc.commit();
    doc
}

#[test]
fn a_rebuilt_document_has_the_same_content_and_no_history() {
    let mut doc = sample();
    let at = DateTime::from_timestamp(1_800_000_100, 0).unwrap();
    let mut fresh = rebuilt(&doc, at).unwrap();
    let n = doc.get_changes(&[]).len();
    assert!(n > 15, "{n}");
    let changes = fresh.get_changes(&[]);
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].timestamp(), at.timestamp());
    assert_eq!(read(&fresh).unwrap(), read(&doc).unwrap());
    assert_eq!(
        fresh.hydrate(ROOT, None).unwrap(),
        doc.hydrate(ROOT, None).unwrap()
    );
    assert!(fresh.save().len() < doc.save().len());
    // Edits after a rebuild work as before.
    put_text(&mut fresh, "description", "外卖封签被撕开了").unwrap();
    assert_eq!(
        read(&fresh).unwrap().description.as_deref(),
        Some("外卖封签被撕开了")
    );
}

#[test]
fn public_readers_read_any_report_document_and_refuse_others() {
    let mut doc = sample();
    let bytes = doc.save();
    let plain = automerge::Automerge::load(&bytes).unwrap();
    for r in [
        read_report_document(&doc).unwrap(),
        read_report_document(&plain).unwrap(),
    ] {
        assert_eq!(r.author, "rider-1");
        assert_eq!(r.district.as_deref(), Some("610103"));
        assert_eq!(r.status, ReportStatus::Draft);
        assert_eq!(r.photos.len(), 1);
    }
    assert_eq!(report_author(&plain).unwrap(), "rider-1");
    assert_eq!(report_district(&plain).unwrap().as_deref(), Some("610103"));
    put_district(&mut doc, "").unwrap();
    assert_eq!(report_district(&doc).unwrap(), None);

    let mut other = AutoCommit::new();
    other.put(ROOT, "schema", "waystation/case").unwrap();
    for err in [
        read_report_document(&other).unwrap_err(),
        report_author(&other).unwrap_err(),
        report_district(&other).unwrap_err(),
    ] {
        assert!(matches!(err, Error::InvalidInput(_)), "{err}");
        assert!(err.to_string().contains("not a report"), "{err}");
    }
    other.put(ROOT, "schema", REPORT_SCHEMA).unwrap();
    let err = report_author(&other).unwrap_err();
    assert!(err.to_string().contains("no author"), "{err}");
    let err = read_report_document(&other).unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)), "{err}");
}

#[test]
fn the_server_refuses_a_report_with_an_unknown_top_level_field_and_names_it() {
    use crate::sync::policy::{Account, Role, check_report};
    let mut doc = sample();
    let at = DateTime::from_timestamp(1_800_000_100, 0).unwrap();
    put_time(&mut doc, "submitted_at", at).unwrap();
    doc.commit();
    let id = ReportId::parse("01900000-0000-7000-8000-000000000007").unwrap();
    let rider = Account {
        user: "rider-1".into(),
        role: Role::Rider,
        areas: vec![],
    };
    let err = check_report(&rider, &id, None, &doc).unwrap_err();
    assert!(err.contains("unknown field 'future'"), "{err}");
    doc.delete(ROOT, "future").unwrap();
    doc.commit();
    check_report(&rider, &id, None, &doc).unwrap();
}

#[test]
fn growing_text_stores_little_history() {
    let text: String = "外卖封签被撕开，餐盒有明显打开痕迹。".repeat(4);
    let mut spliced = AutoCommit::new();
    let mut registers = AutoCommit::new();
    for n in 1..=50 {
        let v: String = text.chars().take(n).collect();
        put_text(&mut spliced, "description", &v).unwrap();
        spliced.commit();
        registers.put(ROOT, "description", v.as_str()).unwrap();
        registers.commit();
    }
    let (s, r) = (spliced.save().len(), registers.save().len());
    assert!(s < r, "spliced {s} bytes, registers {r} bytes");
}
