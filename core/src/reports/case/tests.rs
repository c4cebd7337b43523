//! Unit tests of the case document, its fold and its integrity checks.

use super::*;
use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ObjType, ROOT, ReadDoc};

fn at(s: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap()
}

fn ev(id: &str, kind: CaseEventKind, role: CaseRole, t: i64) -> CaseEvent {
    CaseEvent {
        id: id.into(),
        kind,
        actor: "u".into(),
        role,
        at: at(t),
        note: None,
        photos: vec![],
    }
}

fn rid() -> ReportId {
    ReportId::parse("01900000-0000-7000-8000-000000000001").unwrap()
}

#[test]
fn genesis_is_identical_on_every_device() {
    let mut a = genesis(&rid()).unwrap();
    let mut b = genesis(&rid()).unwrap();
    assert_eq!(a.get_heads(), b.get_heads());
    let other = ReportId::parse("01900000-0000-7000-8000-000000000002").unwrap();
    assert_ne!(a.get_heads(), genesis(&other).unwrap().get_heads());
}

#[test]
fn fold_is_order_independent_and_first_close_wins() {
    use CaseEventKind as K;
    use CaseRole as R;
    let events = vec![
        ev("b", K::Reject { reason: "x".into() }, R::GridWorker, 30),
        ev("a", K::Resolve, R::Supervisor, 20),
        ev("c", K::Acknowledge, R::StationStaff, 10),
        ev("d", K::Note, R::GridWorker, 40),
    ];
    let mut reversed = events.clone();
    reversed.reverse();
    let v1 = fold(&rid(), Category::RoadHazard, events, vec![]);
    let v2 = fold(&rid(), Category::RoadHazard, reversed, vec![]);
    assert_eq!(v1, v2);
    assert_eq!(v1.status, CaseStatus::Resolved);
    let applied: Vec<bool> = v1.timeline.iter().map(|t| t.applied).collect();
    assert_eq!(applied, [true, true, false, true]);
    assert_eq!(v1.open311_status, Open311Status::Closed);
    assert!(v1.status_notes.contains("resolved"), "{}", v1.status_notes);
}

#[test]
fn a_forbidden_role_from_elsewhere_is_kept_but_not_applied() {
    let events = vec![ev("a", CaseEventKind::Resolve, CaseRole::Rider, 1)];
    let v = fold(&rid(), Category::FoodSeal, events, vec!["zz".into()]);
    assert_eq!(v.status, CaseStatus::Open);
    assert!(!v.timeline[0].applied);
    assert_eq!(v.unreadable_events, ["zz"]);
}

#[test]
fn unknown_kinds_are_kept_and_independent_documents_lose_nothing() {
    let mut a = AutoCommit::new();
    let mut b = genesis(&rid()).unwrap();
    write_event(
        &mut a,
        &ev("a", CaseEventKind::Acknowledge, CaseRole::Supervisor, 1),
    )
    .unwrap();
    write_event(
        &mut b,
        &ev("b", CaseEventKind::Resolve, CaseRole::GridWorker, 2),
    )
    .unwrap();
    let (_, map) = b.get(ROOT, "events").unwrap().unwrap();
    let future = b.put_object(&map, "c", ObjType::Map).unwrap();
    b.put(&future, "kind", "escalate").unwrap();
    a.merge(&mut b).unwrap();
    let read = read_events(&a);
    let ids: Vec<&str> = read.events.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["a", "b"]);
    assert_eq!(read.unreadable, ["c"]);
    assert!(read.disputed.is_empty());
    let v = fold(&rid(), Category::Other, read.events, read.unreadable);
    assert_eq!(v.status, CaseStatus::Resolved);
    assert_eq!(v.unreadable_events, ["c"]);
}

#[test]
fn role_table() {
    use CaseEventKind as K;
    assert!(!role_may(CaseRole::Rider, &K::Note, Category::Other));
    assert!(role_may(
        CaseRole::StationStaff,
        &K::Resolve,
        Category::StationChargerBroken
    ));
    assert!(!role_may(
        CaseRole::StationStaff,
        &K::Resolve,
        Category::FoodSeal
    ));
    assert!(!role_may(
        CaseRole::GridWorker,
        &K::Dispatch {
            grid_id: "g".into()
        },
        Category::Other
    ));
    assert_eq!(
        "grid_worker".parse::<CaseRole>().unwrap(),
        CaseRole::GridWorker
    );
    assert!("boss".parse::<CaseRole>().is_err());
}

/// Two values under one event id (a forgery: a branch from before the event, a second value
/// under its id) are shown as neither, on every device, whatever the merge order.
#[test]
fn a_disputed_event_is_dropped_and_listed_the_same_on_every_device() {
    use CaseEventKind as K;
    let mut base = genesis(&rid()).unwrap();
    let mut honest = base.fork();
    let ack = ev("e", K::Acknowledge, CaseRole::StationStaff, 10);
    write_event(&mut honest, &ack).unwrap();
    honest.commit();
    let mut forged = base.fork();
    let mut fake = ev(
        "e",
        K::Reject {
            reason: "不属实".into(),
        },
        CaseRole::Supervisor,
        5,
    );
    fake.actor = "sup-1".into();
    write_event(&mut forged, &fake).unwrap();
    forged.commit();
    let mut one = honest.fork();
    one.merge(&mut forged.fork()).unwrap();
    let mut two = forged.fork();
    two.merge(&mut honest.fork()).unwrap();
    for doc in [&mut one, &mut two] {
        let read = read_events(doc);
        assert!(read.events.is_empty(), "{read:?}");
        assert_eq!(read.disputed, ["e"]);
        let v = view(Some(doc), &rid(), Category::RoadHazard);
        assert_eq!(v.status, CaseStatus::Open);
        assert_eq!(v.disputed_events, ["e"]);
        assert!(v.timeline.is_empty());
    }
    // Undisputed events beside it are read as usual.
    write_event(&mut one, &ev("f", K::Note, CaseRole::GridWorker, 20)).unwrap();
    let read = read_events(&one);
    assert_eq!(read.events.len(), 1);
    assert_eq!(read.disputed, ["e"]);
}

/// The server's checks of a case document (`sync::policy::check_case` with
/// `case::integrity`), on documents built the way devices and forgers build them.
mod server_checks {
    use super::*;
    use crate::reports::ReportStatus;
    use crate::sync::policy::{self, Account, CaseUpdate, ReportFacts, Role};
    use automerge::ActorId;

    fn uid(n: u8) -> String {
        format!("01900000-0000-7000-8000-0000000001{n:02x}")
    }

    fn event(n: u8, kind: CaseEventKind, actor: &str, role: CaseRole, t: i64) -> CaseEvent {
        CaseEvent {
            id: uid(n),
            kind,
            actor: actor.into(),
            role,
            at: at(t),
            note: None,
            photos: vec![],
        }
    }

    /// Writes `e` the way a device does: a fresh actor tagged with its writer.
    fn write_as(doc: &mut AutoCommit, e: &CaseEvent) {
        doc.set_actor(integrity::writer_actor(&e.actor));
        write_event(doc, e).unwrap();
        doc.commit();
    }

    fn account(user: &str, role: Role) -> Account {
        Account {
            user: user.into(),
            role,
            areas: vec!["610113".into()],
        }
    }

    fn facts() -> ReportFacts {
        ReportFacts {
            author: "rider-1".into(),
            category: Category::RoadHazard,
            district: Some("610113".into()),
            status: ReportStatus::Submitted,
            photos: vec![],
            time: at(0),
        }
    }

    /// The server's clock in these tests: 1000 s after the report.
    fn now() -> DateTime<Utc> {
        at(1000)
    }

    fn check(
        writer: &Account,
        before: Option<&AutoCommit>,
        after: &AutoCommit,
    ) -> Result<(), String> {
        let heads = before.map(|b| b.clone().get_heads()).unwrap_or_default();
        let new_changes = after.clone().get_changes(&heads);
        policy::check_case(
            writer,
            &rid(),
            &facts(),
            CaseUpdate {
                before,
                after,
                new_changes: &new_changes,
                now: now(),
            },
        )
    }

    fn staff() -> Account {
        account("staff-1", Role::Station)
    }

    fn grid() -> Account {
        account("grid-1", Role::Grid)
    }

    /// The server's copy: genesis and an acknowledgement by staff-1.
    fn stored() -> AutoCommit {
        let mut doc = genesis(&rid()).unwrap();
        let ack = event(
            1,
            CaseEventKind::Acknowledge,
            "staff-1",
            CaseRole::StationStaff,
            100,
        );
        write_as(&mut doc, &ack);
        doc
    }

    #[test]
    fn an_honest_event_is_accepted() {
        let after = stored();
        check(&staff(), None, &after).unwrap();
        let mut next = after.clone();
        let note = event(2, CaseEventKind::Note, "grid-1", CaseRole::GridWorker, 200);
        write_as(&mut next, &note);
        check(&grid(), Some(&after), &next).unwrap();
    }

    #[test]
    fn a_second_value_under_an_existing_event_id_is_refused() {
        let before = stored();
        // grid-1 branches from the genesis and writes, under the acknowledgement's id, a
        // reject "by" a supervisor, backdated before it.
        let mut fork = genesis(&rid()).unwrap();
        let mut forged = event(
            1,
            CaseEventKind::Reject {
                reason: "不属实".into(),
            },
            "sup-1",
            CaseRole::Supervisor,
            50,
        );
        fork.set_actor(integrity::writer_actor("grid-1"));
        write_event(&mut fork, &forged).unwrap();
        fork.commit();
        let mut after = before.clone();
        after.merge(&mut fork).unwrap();
        let err = check(&grid(), Some(&before), &after).unwrap_err();
        assert!(err.contains("conflicting values"), "{err}");
        // Rewriting it in place (not a conflict, a change) is refused too.
        let mut after = before.clone();
        after.set_actor(integrity::writer_actor("grid-1"));
        forged.at = at(100);
        write_event(&mut after, &forged).unwrap();
        after.commit();
        let err = check(&grid(), Some(&before), &after).unwrap_err();
        assert!(err.contains("changed or removed"), "{err}");
    }

    #[test]
    fn unknown_fields_are_refused_and_named() {
        let before = stored();
        let mut after = before.clone();
        let note = event(2, CaseEventKind::Note, "grid-1", CaseRole::GridWorker, 200);
        write_as(&mut after, &note);
        let (_, events) = after.get(ROOT, "events").unwrap().unwrap();
        let (_, obj) = after.get(&events, uid(2).as_str()).unwrap().unwrap();
        after.put(&obj, "priority", "urgent").unwrap();
        after.commit();
        let err = check(&grid(), Some(&before), &after).unwrap_err();
        assert!(err.contains("'priority'"), "{err}");

        let mut after = before.clone();
        after.set_actor(integrity::writer_actor("grid-1"));
        after.put(ROOT, "status", "rejected").unwrap();
        after.commit();
        let err = check(&grid(), Some(&before), &after).unwrap_err();
        assert!(err.contains("unknown field 'status'"), "{err}");

        // A field of another kind of event is unknown for this one.
        let mut after = before.clone();
        write_as(
            &mut after,
            &event(3, CaseEventKind::Note, "grid-1", CaseRole::GridWorker, 200),
        );
        let (_, events) = after.get(ROOT, "events").unwrap().unwrap();
        let (_, obj) = after.get(&events, uid(3).as_str()).unwrap().unwrap();
        after.put(&obj, "reason", "x").unwrap();
        after.commit();
        let err = check(&grid(), Some(&before), &after).unwrap_err();
        assert!(err.contains("'reason'"), "{err}");
    }

    #[test]
    fn free_fields_and_times_are_bounded() {
        let before = stored();
        let with = |e: CaseEvent| {
            let mut after = before.clone();
            write_as(&mut after, &e);
            check(&grid(), Some(&before), &after)
        };
        let g = |kind, t| event(2, kind, "grid-1", CaseRole::GridWorker, t);
        let long = "长".repeat(crate::reports::MAX_REASON_CHARS + 1);
        let err = with(g(CaseEventKind::Reject { reason: long }, 200)).unwrap_err();
        assert!(err.contains("reason is"), "{err}");
        let err = with(g(CaseEventKind::Reject { reason: " ".into() }, 200)).unwrap_err();
        assert!(err.contains("needs a reason"), "{err}");
        let sup = account("sup-1", Role::Supervisor);
        let dispatch = |grid_id: &str| {
            let mut after = before.clone();
            let e = event(
                2,
                CaseEventKind::Dispatch {
                    grid_id: grid_id.into(),
                },
                "sup-1",
                CaseRole::Supervisor,
                200,
            );
            write_as(&mut after, &e);
            check(&sup, Some(&before), &after)
        };
        dispatch("雁塔-07").unwrap();
        assert!(dispatch("a b").unwrap_err().contains("grid_id"));
        assert!(dispatch(&"g".repeat(65)).unwrap_err().contains("grid_id"));
        let mut e = g(CaseEventKind::Note, 200);
        e.note = Some("a\u{7}b".into());
        assert!(with(e).unwrap_err().contains("control character"));

        // Up to the allowance ahead of the server's clock; not beyond.
        let skew = integrity::CLOCK_SKEW.num_seconds();
        with(g(CaseEventKind::Note, 1000 + skew)).unwrap();
        let err = with(g(CaseEventKind::Note, 1000 + skew + 1)).unwrap_err();
        assert!(err.contains("ahead of the server's clock"), "{err}");
        // Before the report (its time is at(0)) by more than the allowance: refused.
        with(g(CaseEventKind::Note, -skew)).unwrap();
        let err = with(g(CaseEventKind::Note, -skew - 1)).unwrap_err();
        assert!(err.contains("before the report"), "{err}");
    }

    #[test]
    fn event_photos_are_bounded_hex_on_notes_and_resolves_and_written_once() {
        let before = stored();
        let with = |e: &CaseEvent| {
            let mut after = before.clone();
            write_as(&mut after, e);
            check(&grid(), Some(&before), &after).map(|()| after)
        };
        let sha = |n: u8| format!("{n:02x}").repeat(32);
        let mut note = event(2, CaseEventKind::Note, "grid-1", CaseRole::GridWorker, 200);
        note.photos = vec![sha(1), sha(2)];
        let after = with(&note).unwrap();
        // Every device reads the photos back, in order.
        let read = read_events(&after);
        assert_eq!(read.events[1].photos, [sha(1), sha(2)]);
        let mut resolve = event(
            2,
            CaseEventKind::Resolve,
            "grid-1",
            CaseRole::GridWorker,
            200,
        );
        resolve.photos = vec![sha(3)];
        with(&resolve).unwrap();

        let mut ack = event(
            2,
            CaseEventKind::Acknowledge,
            "grid-1",
            CaseRole::GridWorker,
            200,
        );
        ack.photos = vec![sha(1)];
        let err = with(&ack).unwrap_err();
        assert!(err.contains("'photos'"), "{err}");
        let mut many = note.clone();
        many.photos = (1..=5).map(sha).collect();
        let err = with(&many).unwrap_err();
        assert!(err.contains("at most 4"), "{err}");
        let mut upper = note.clone();
        upper.photos = vec![sha(0xab).to_uppercase()];
        assert!(with(&upper).is_err());
        let mut twice = note.clone();
        twice.photos = vec![sha(1), sha(1)];
        let err = with(&twice).unwrap_err();
        assert!(err.contains("named twice"), "{err}");

        // Another account cannot add a photo to grid-1's event: the field holds one value.
        let mut forged = after.clone();
        forged.set_actor(integrity::writer_actor("staff-1"));
        let (_, events) = forged.get(ROOT, "events").unwrap().unwrap();
        let (_, obj) = forged.get(&events, uid(2).as_str()).unwrap().unwrap();
        forged
            .put(&obj, "photos", format!("{} {}", sha(1), sha(9)))
            .unwrap();
        forged.commit();
        assert!(check(&staff(), Some(&after), &forged).is_err());
    }

    #[test]
    fn only_the_canonical_genesis_and_the_senders_actors_are_accepted() {
        // A case created first under the genesis actor with other content.
        let mut poisoned = AutoCommit::new().with_actor(integrity::genesis_actor(&rid()));
        poisoned.put(ROOT, "schema", CASE_SCHEMA).unwrap();
        poisoned.put(ROOT, "report", rid().as_str()).unwrap();
        poisoned.put_object(ROOT, "events", ObjType::Map).unwrap();
        poisoned.commit_with(CommitOptions::default().with_time(1));
        let err = check(&grid(), None, &poisoned).unwrap_err();
        assert!(err.contains("canonical genesis"), "{err}");
        // Even beside the canonical genesis, as a second change by its actor.
        let new_changes = poisoned.get_changes(&[]);
        let err = integrity::check_authors("grid-1", &rid(), &new_changes).unwrap_err();
        assert!(err.contains("not the canonical genesis"), "{err}");
        // A case that does not start from the genesis at all.
        let mut other = AutoCommit::new();
        other.put(ROOT, "schema", CASE_SCHEMA).unwrap();
        other.put(ROOT, "report", rid().as_str()).unwrap();
        other.put_object(ROOT, "events", ObjType::Map).unwrap();
        other.commit();
        let err = check(&grid(), None, &other).unwrap_err();
        assert!(err.contains("canonical genesis"), "{err}");

        // A change under another account's tagged actor.
        let before = stored();
        let mut after = before.clone();
        after.set_actor(integrity::writer_actor("staff-1"));
        write_event(
            &mut after,
            &event(2, CaseEventKind::Note, "grid-1", CaseRole::GridWorker, 200),
        )
        .unwrap();
        after.commit();
        let err = check(&grid(), Some(&before), &after).unwrap_err();
        assert!(err.contains("actor of another account"), "{err}");

        // An untagged (older build's) actor: accepted when new, refused when it continues an
        // actor the server already holds.
        let legacy = ActorId::random();
        let mut old = stored();
        old.set_actor(legacy.clone());
        write_event(
            &mut old,
            &event(
                2,
                CaseEventKind::Note,
                "staff-1",
                CaseRole::StationStaff,
                200,
            ),
        )
        .unwrap();
        old.commit();
        check(&staff(), Some(&stored()), &old).unwrap();
        let mut after = old.clone();
        after.set_actor(legacy);
        write_event(
            &mut after,
            &event(3, CaseEventKind::Note, "grid-1", CaseRole::GridWorker, 300),
        )
        .unwrap();
        after.commit();
        let err = check(&grid(), Some(&old), &after).unwrap_err();
        assert!(err.contains("did not start"), "{err}");
    }
}
