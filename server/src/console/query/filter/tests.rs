use super::*;
use chrono::Duration;
use waystation_core::reports::{CaseEvent, CaseEventKind, CaseRole, ReportId, ReportStatus};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// A row as the console builds it, from a report and the core's own fold.
fn row(
    created: &str,
    category: Category,
    district: &str,
    merchant: Option<&str>,
    description: Option<&str>,
    events: Vec<CaseEventKind>,
) -> CaseRow {
    let created = at(created);
    let id = ReportId::generate(created).unwrap();
    let report = waystation_core::reports::Report {
        id: id.clone(),
        author: "rider-1".into(),
        category,
        status: ReportStatus::Submitted,
        description: description.map(String::from),
        merchant_name: merchant.map(String::from),
        merchant_address: None,
        address: None,
        position: None,
        district: Some(district.into()),
        created_at: created,
        submitted_at: Some(created),
        withdrawn_at: None,
        withdraw_reason: None,
        photos: vec![],
        outbox: None,
    };
    let events = events
        .into_iter()
        .enumerate()
        .map(|(i, kind)| CaseEvent {
            id: format!("e{i}"),
            kind,
            actor: "s1".into(),
            role: CaseRole::Supervisor,
            at: created + Duration::hours(i as i64 + 1),
            note: None,
            photos: vec![],
        })
        .collect();
    let view = waystation_core::reports::case::fold(&id, category, events, vec![]);
    CaseRow::new(report, view)
}

#[test]
fn parses_every_parameter_and_names_a_bad_one() {
    let f = CaseFilter::parse(Some(
        "district=610113&category=food.seal&group=food&status=active&after=2026-11-01\
         &before=2026-12-01&min_age=1&max_age=30&q=%E5%A4%96%E5%8D%96&sort=status&dir=asc\
         &page=3&size=50&lang=en&service_code=x",
    ))
    .unwrap();
    assert_eq!(f.district.as_deref(), Some("610113"));
    assert_eq!(f.category, Some(Category::FoodSeal));
    assert_eq!(f.group, Some(CategoryGroup::Food));
    assert_eq!(f.status, Some(StatusFilter::Active));
    assert_eq!(f.q.as_deref(), Some("外卖"));
    assert_eq!(
        (f.sort, f.dir, f.page, f.page_size),
        (SortKey::Status, SortDir::Asc, 3, 50)
    );
    // Round trip through the links the pages make.
    assert_eq!(CaseFilter::parse(Some(&f.to_query(None, None))).unwrap(), f);
    // Empty values are no filter: a plain GET form sends every field.
    assert_eq!(
        CaseFilter::parse(Some("district=&status=&q=")).unwrap(),
        CaseFilter::default()
    );
    for (q, param) in [
        ("district=110101", "district"),
        ("category=food.nope", "category"),
        ("group=x", "group"),
        ("status=lost", "status"),
        ("after=2026-13-01", "after"),
        ("min_age=-1", "min_age"),
        ("sort=author", "sort"),
        ("dir=up", "dir"),
        ("size=0", "size"),
        ("size=201", "size"),
        ("page=x", "page"),
        ("after=2026-12-01&before=2026-11-01", "before"),
        ("min_age=5&max_age=2", "max_age"),
    ] {
        let e = CaseFilter::parse(Some(q)).unwrap_err();
        assert_eq!(e.param, param, "{q}: {e}");
    }
    let long = format!("q={}", "字".repeat(MAX_QUERY_CHARS + 1));
    assert_eq!(CaseFilter::parse(Some(&long)).unwrap_err().param, "q");
}

#[test]
fn filters_search_in_chinese_and_sort() {
    let now = at("2026-11-30T04:00:00Z");
    let rows = vec![
        row(
            "2026-11-29T02:00:00Z",
            Category::FoodSeal,
            "610113",
            Some("老王外卖店"),
            None,
            vec![],
        ),
        row(
            "2026-11-10T02:00:00Z",
            Category::RoadHazard,
            "610104",
            None,
            Some("Pothole near the GATE"),
            vec![CaseEventKind::Acknowledge, CaseEventKind::Resolve],
        ),
        row(
            "2026-10-31T17:00:00Z", // 2026-11-01 01:00 in Xi'an
            Category::FoodHygiene,
            "610113",
            Some("商户名"),
            Some("厨房不卫生"),
            vec![CaseEventKind::Acknowledge],
        ),
    ];
    let pick = |q: &str| -> Vec<usize> {
        let f = CaseFilter::parse(Some(q)).unwrap();
        rows.iter()
            .enumerate()
            .filter(|(_, r)| f.matches(r, now))
            .map(|(i, _)| i)
            .collect()
    };
    assert_eq!(pick("q=外卖"), vec![0]);
    assert_eq!(pick("q=商户名"), vec![2]);
    assert_eq!(pick("q=卫生"), vec![2]);
    assert_eq!(pick("q=gate"), vec![1], "Latin text is found in any case");
    assert_eq!(pick("q=xyz"), Vec::<usize>::new());
    assert_eq!(pick("district=610113"), vec![0, 2]);
    assert_eq!(pick("group=food"), vec![0, 2]);
    assert_eq!(pick("category=road.hazard"), vec![1]);
    assert_eq!(pick("status=closed"), vec![1]);
    assert_eq!(pick("status=active"), vec![0, 2]);
    assert_eq!(pick("status=acknowledged"), vec![2]);
    assert_eq!(pick("status=open"), vec![0]);
    // Days are Xi'an days: the third was opened on 1 November there.
    assert_eq!(pick("after=2026-11-01"), vec![0, 1, 2]);
    assert_eq!(pick("after=2026-11-02"), vec![0, 1]);
    assert_eq!(pick("before=2026-11-01"), Vec::<usize>::new());
    assert_eq!(pick("min_age=7"), vec![1, 2]);
    assert_eq!(pick("max_age=7"), vec![0]);

    let mut sorted = rows.clone();
    CaseFilter::default().sort(&mut sorted);
    assert_eq!(sorted[0].report_id, rows[0].report_id, "newest first");
    CaseFilter::parse(Some("sort=status&dir=desc"))
        .unwrap()
        .sort(&mut sorted);
    assert_eq!(sorted[0].status, CaseStatus::Resolved);
    assert_eq!(sorted[2].status, CaseStatus::Open);
    assert_eq!(
        rows[1].closed_at,
        Some(rows[1].created + Duration::hours(2))
    );
    assert_eq!(
        rows[1].acknowledged_at,
        Some(rows[1].created + Duration::hours(1))
    );
    assert_eq!(rows[2].closed_at, None);

    let f = CaseFilter::parse(Some("size=2&page=9")).unwrap();
    let p = super::super::page(&sorted, &f);
    assert_eq!((p.page, p.pages, p.total, p.rows.len()), (2, 2, 3, 1));
}
