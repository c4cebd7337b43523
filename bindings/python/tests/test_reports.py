"""Hazard reports through the Python bindings: drafts, evidence, photos, submission, cases,
Open311 export, merging case documents between devices, and nearby duplicates.

Every test opens its own data directory (a phone) with nothing installed: reports need no pack,
only a district, which the tests set (with a station pack it comes from the nearest station).
"""

import asyncio
import datetime as dt
import inspect
import json
import shutil
import struct
from pathlib import Path

import pytest

import waystation as w
from conftest import demo_options, run

RIDER = "rider-7"
UNKNOWN_ID = "0190b0a0-0000-7000-8000-000000000000"
BEILIN = "610103"


def segment(marker: int, body: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body


# A valid 1x1 grey baseline JPEG, with an EXIF segment (APP1) and a comment that must both be
# stripped before the photo is stored.
EXIF = b"Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\x00\x00\x00\x00\x00"
JPEG = (
    b"\xff\xd8"
    + segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
    + segment(0xE1, EXIF)
    + segment(0xFE, b"secret comment")
    + segment(0xDB, b"\x00" + b"\x01" * 64)
    + segment(0xC0, b"\x08\x00\x01\x00\x01\x01\x01\x11\x00")
    + segment(0xC4, b"\x00\x01" + b"\x00" * 16)
    + segment(0xC4, b"\x10\x01" + b"\x00" * 16)
    + segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
    + b"\x3f\xff\xd9"
)


# When the test positions were fixed: a fixed instant in the past (the core refuses fix times
# ahead of its clock, never past ones), so no test reads the wall clock.
FIX_TIME = dt.datetime(2026, 12, 1, 2, 30, tzinfo=dt.timezone.utc)


def open_device(path: Path) -> w.Waystation:
    return w.Waystation(str(path), demo_options())


@pytest.fixture
def ws(data_dir: Path) -> w.Waystation:
    return open_device(data_dir)


RULES = w.default_report_rules()


def fix(lat: float, lon: float, datum=w.Datum.WGS84, accuracy=10.0, mock=False) -> w.PositionFix:
    return w.PositionFix(
        lat=lat, lon=lon, datum=datum, accuracy_m=accuracy, fix_time=FIX_TIME, mock=mock
    )


def submitted(ws: w.Waystation, lat: float = 34.25, lon: float = 108.95, author=RIDER,
              district=BEILIN) -> str:
    """A complete food-seal report, submitted; returns its id."""
    rid = ws.reports().create_draft(author, "food.seal")
    ws.reports().update_draft(rid, w.ReportPatch(merchant_name="Lao Wang", district=district))
    ws.reports().set_position(rid, fix(lat, lon))
    ws.reports().submit(author, rid, RULES)
    return rid


def test_categories_and_default_rules():
    codes = [c.code for c in w.report_categories()]
    assert "food.seal" in codes and "road.hazard" in codes and "other" in codes
    seal = next(c for c in w.report_categories() if c.code == "food.seal")
    assert seal.group == w.CategoryGroup.FOOD and seal.needs_merchant and seal.label_zh
    assert RULES == w.ReportRules()
    assert RULES.warn_accuracy_m == 50.0 and RULES.max_photos == 6
    assert w.default_duplicate_rules() == w.DuplicateRules(radius_m=50.0, max_age_days=7)


def test_a_draft_is_created_updated_and_positioned(ws):
    rid = ws.reports().create_draft(RIDER, "food.seal")
    r = ws.reports().get(rid)
    assert r.status == w.ReportStatus.DRAFT and r.category == "food.seal"
    assert r.outbox is None and r.position is None

    r = ws.reports().update_draft(
        rid, w.ReportPatch(description="seal torn", merchant_name="Lao Wang", address="Yanta Rd")
    )
    assert (r.description, r.merchant_name, r.address) == ("seal torn", "Lao Wang", "Yanta Rd")
    r = ws.reports().update_draft(rid, w.ReportPatch(category="food.hygiene"))
    assert r.category == "food.hygiene" and r.description == "seal torn"

    # GCJ-02 in (as Amap gives it), WGS-84 stored beside the source coordinates.
    r = ws.reports().set_position(rid, fix(34.2, 108.9, datum=w.Datum.GCJ02, accuracy=None))
    p = r.position
    assert p.datum == w.Datum.GCJ02 and (p.source_lat, p.source_lon) == (34.2, 108.9)
    back = w.convert_position(w.Position(lat=p.lat, lon=p.lon, datum=w.Datum.WGS84), w.Datum.GCJ02)
    assert abs(back.lat - 34.2) < 1e-6 and abs(back.lon - 108.9) < 1e-6
    assert abs(p.lat - 34.2) > 1e-4 and p.accuracy_m is None

    assert [d.id for d in ws.reports().drafts(RIDER)] == [rid]
    # No station pack: the district must be chosen before submitting.
    assert [p.field for p in ws.reports().check(rid, RULES).problems] == ["district"]
    assert ws.reports().update_draft(rid, w.ReportPatch(district=BEILIN)).district == BEILIN
    check = ws.reports().check(rid, RULES)
    assert check.problems == []  # nothing stops submission
    assert [x.message for x in check.warnings] == ["accuracy unknown"]

    ws.reports().delete_draft(RIDER, rid)
    with pytest.raises(w.WaystationError.NotFound):
        ws.reports().get(rid)


def test_edits_are_durable_across_reopening(data_dir):
    ws = open_device(data_dir)
    rid = ws.reports().create_draft(RIDER, "road.hazard")
    ws.reports().update_draft(rid, w.ReportPatch(description="pothole"))
    del ws
    assert open_device(data_dir).reports().get(rid).description == "pothole"


def test_a_photo_is_stripped_and_stored_once(ws):
    rid = ws.reports().create_draft(RIDER, "road.hazard")
    photo = run(ws.reports().attach_photo(rid, JPEG, RULES))
    assert photo.media_type == "image/jpeg" and (photo.width, photo.height) == (1, 1)
    stored = Path(ws.reports().photo_path(photo.sha256)).read_bytes()
    assert stored.startswith(b"\xff\xd8") and stored.endswith(b"\xff\xd9")
    assert b"Exif" not in stored and b"secret" not in stored
    assert EXIF in JPEG and len(stored) == photo.size_bytes < len(JPEG)
    assert run(ws.reports().attach_photo(rid, JPEG, RULES)) == photo
    assert [p.sha256 for p in ws.reports().get(rid).photos] == [photo.sha256]
    r = ws.reports().remove_photo(rid, photo.sha256)
    assert r.photos == []


def test_bad_photos_are_refused_and_the_draft_kept(ws):
    rid = ws.reports().create_draft(RIDER, "road.hazard")
    ws.reports().update_draft(rid, w.ReportPatch(description="pothole"))
    with pytest.raises(w.WaystationError.InvalidInput, match="not a JPEG, PNG or WebP"):
        run(ws.reports().attach_photo(rid, b"definitely not a picture", RULES))
    with pytest.raises(w.WaystationError.InvalidInput, match="truncated"):
        run(ws.reports().attach_photo(rid, JPEG[:-2], RULES))
    with pytest.raises(w.WaystationError.InvalidInput, match="at most 100 bytes"):
        run(ws.reports().attach_photo(rid, JPEG, w.ReportRules(max_photo_bytes=100)))
    one = w.ReportRules(max_photos=1)
    run(ws.reports().attach_photo(rid, JPEG, one))
    other = JPEG.replace(b"secret comment", b"other comment!")
    assert other != JPEG
    # Same pixels after stripping: stored once, so it still fits.
    run(ws.reports().attach_photo(rid, other, one))
    r = ws.reports().get(rid)
    assert len(r.photos) == 1 and r.description == "pothole"


def test_bad_input_is_refused_and_the_draft_kept(ws):
    with pytest.raises(w.WaystationError.InvalidInput, match="unknown report category 'food.nope'"):
        ws.reports().create_draft(RIDER, "food.nope")
    rid = ws.reports().create_draft(RIDER, "food.seal")
    ws.reports().update_draft(rid, w.ReportPatch(description="kept"))
    with pytest.raises(w.WaystationError.InvalidInput, match="unknown report category"):
        ws.reports().update_draft(rid, w.ReportPatch(category="nope"))
    with pytest.raises(w.WaystationError.InvalidInput, match="4000"):
        ws.reports().update_draft(rid, w.ReportPatch(description="x" * 4001))
    for lat, lon in [(91.0, 108.9), (34.2, 181.0), (float("nan"), 108.9), (0.0, 0.0)]:
        with pytest.raises(w.WaystationError.InvalidInput):
            ws.reports().set_position(rid, fix(lat, lon))
    with pytest.raises(w.WaystationError.InvalidInput, match="accuracy"):
        ws.reports().set_position(rid, fix(34.2, 108.9, accuracy=-1.0))
    with pytest.raises(w.WaystationError.InvalidInput):
        ws.reports().get("not-a-uuid")
    with pytest.raises(w.WaystationError.NotFound):
        ws.reports().get(UNKNOWN_ID)
    r = ws.reports().get(rid)
    assert r.description == "kept" and r.position is None and r.category == "food.seal"

    # Every problem at once.
    check = ws.reports().check(rid, RULES)
    assert check.problems  # something stops submission
    assert sorted(p.field for p in check.problems) == ["district", "merchant_name", "position"]
    with pytest.raises(w.WaystationError.InvalidInput, match="position: .*merchant_name: .*district: "):
        ws.reports().submit(RIDER, rid, RULES)
    assert ws.reports().get(rid).status == w.ReportStatus.DRAFT


def test_submit_once_then_withdraw_with_outbox_state(ws):
    rid = submitted(ws)
    r = ws.reports().get(rid)
    assert r.status == w.ReportStatus.SUBMITTED and r.submitted_at is not None
    assert r.outbox == w.OutboxState.PENDING()
    with pytest.raises(w.WaystationError.InvalidInput, match="already submitted"):
        ws.reports().submit(RIDER, rid, RULES)
    with pytest.raises(w.WaystationError.InvalidInput, match="cannot be edited"):
        ws.reports().update_draft(rid, w.ReportPatch(description="late"))
    with pytest.raises(w.WaystationError.InvalidInput):
        ws.reports().delete_draft(RIDER, rid)

    at = dt.datetime(2026, 11, 29, 1, 0, tzinfo=dt.timezone.utc)
    ws.reports().record_delivery(rid, w.OutboxState.REFUSED(reason="bad seal photo", at=at))
    assert ws.reports().get(rid).outbox == w.OutboxState.REFUSED(reason="bad seal photo", at=at)
    ws.reports().record_delivery(rid, w.OutboxState.SENT(at=at))
    assert ws.reports().get(rid).outbox == w.OutboxState.SENT(at=at)

    with pytest.raises(w.WaystationError.InvalidInput, match="another author"):
        ws.reports().withdraw("someone-else", rid, "no")
    r = ws.reports().withdraw(RIDER, rid, "fixed already")
    assert r.status == w.ReportStatus.WITHDRAWN and r.withdraw_reason == "fixed already"
    assert [x.id for x in ws.reports().by_author(RIDER)] == [rid]
    assert run(ws.reports().export_open311(rid)).status == w.Open311Status.CLOSED


def test_case_events_by_roles_and_open311(ws):
    rid = submitted(ws)
    case = ws.cases().get(rid)
    assert case.status == w.CaseStatus.OPEN and case.timeline == []
    # Not dispatched yet: the agency responsible is the report's district.
    assert run(ws.reports().export_open311(rid)).agency_responsible == BEILIN
    case = ws.cases().record(rid, "staff-1", w.CaseRole.STATION_STAFF, w.CaseEventKind.ACKNOWLEDGE(), "on it")
    assert case.status == w.CaseStatus.ACKNOWLEDGED
    ev = case.timeline[0].event
    assert (ev.actor, ev.role, ev.note) == ("staff-1", w.CaseRole.STATION_STAFF, "on it")
    assert ev.kind == w.CaseEventKind.ACKNOWLEDGE()

    with pytest.raises(w.WaystationError.InvalidInput, match="station_staff may not resolve"):
        ws.cases().record(rid, "staff-1", w.CaseRole.STATION_STAFF, w.CaseEventKind.RESOLVE(), "")
    with pytest.raises(w.WaystationError.InvalidInput, match="riders cannot write case events"):
        ws.cases().record(rid, RIDER, w.CaseRole.RIDER, w.CaseEventKind.NOTE(), "")
    with pytest.raises(w.WaystationError.InvalidInput, match="reason"):
        ws.cases().record(rid, "sup", w.CaseRole.SUPERVISOR, w.CaseEventKind.REJECT(reason=" "), "")
    with pytest.raises(w.WaystationError.NotFound):
        ws.cases().record(UNKNOWN_ID, "sup", w.CaseRole.SUPERVISOR, w.CaseEventKind.NOTE(), "")
    draft = ws.reports().create_draft(RIDER, "road.hazard")
    with pytest.raises(w.WaystationError.InvalidInput, match="draft"):
        ws.cases().record(draft, "sup", w.CaseRole.SUPERVISOR, w.CaseEventKind.NOTE(), "")
    with pytest.raises(w.WaystationError.InvalidInput, match="draft"):
        run(ws.reports().export_open311(draft))

    case = ws.cases().record(
        rid, "sup", w.CaseRole.SUPERVISOR, w.CaseEventKind.DISPATCH(grid_id="yanta-07"), ""
    )
    assert case.status == w.CaseStatus.IN_PROGRESS and case.grid_id == "yanta-07"
    o = run(ws.reports().export_open311(rid))
    assert (o.service_code, o.status, o.agency_responsible) == ("food.seal", w.Open311Status.OPEN, "yanta-07")
    assert (o.lat, o.long) == (34.25, 108.95)

    case = ws.cases().record(rid, "grid-1", w.CaseRole.GRID_WORKER, w.CaseEventKind.RESOLVE(), "fixed")
    assert case.status == w.CaseStatus.RESOLVED and case.open311_status == w.Open311Status.CLOSED
    assert len(case.timeline) == 3 and case.updated_at is not None
    o = run(ws.reports().export_open311(rid))
    assert o.status == w.Open311Status.CLOSED and o.status_notes
    geo = json.loads(run(ws.reports().export_geojson([rid])))
    assert geo["type"] == "FeatureCollection"
    assert geo["features"][0]["geometry"]["coordinates"] == [108.95, 34.25]
    assert json.loads(run(ws.reports().export_geojson_by(RIDER)))["features"][0]["id"] == rid


def test_the_inbox_lists_cases_by_district_and_status(ws):
    YANTA = "610113"
    beilin_a, beilin_b = submitted(ws), submitted(ws, 34.2501, 108.95)
    yanta = submitted(ws, 34.22, 108.95, district=YANTA)
    ws.reports().create_draft(RIDER, "road.hazard")  # a draft is no case
    assert w.CaseQuery() == w.CaseQuery(districts=[], statuses=[], include_withdrawn=False)

    inbox = ws.cases().list(w.CaseQuery())
    assert {c.report.id for c in inbox} == {beilin_a, beilin_b, yanta}
    assert all(c.status == w.CaseStatus.OPEN and c.grid_id is None for c in inbox)
    assert all(c.age_seconds >= 0 and c.case_updated_at is None for c in inbox)
    submitted_at = [c.report.submitted_at for c in inbox]
    assert submitted_at == sorted(submitted_at, reverse=True)  # newest submission first
    assert {c.report.id for c in ws.cases().list(w.CaseQuery(districts=[YANTA]))} == {yanta}

    # `note` defaults to none given.
    ws.cases().record(beilin_a, "staff-1", w.CaseRole.STATION_STAFF, w.CaseEventKind.ACKNOWLEDGE())
    acknowledged = ws.cases().list(w.CaseQuery(statuses=[w.CaseStatus.ACKNOWLEDGED]))
    assert [c.report.id for c in acknowledged] == [beilin_a]
    assert acknowledged[0].case_updated_at is not None
    open_in_beilin = ws.cases().list(w.CaseQuery(districts=[BEILIN], statuses=[w.CaseStatus.OPEN]))
    assert [c.report.id for c in open_in_beilin] == [beilin_b]

    # A withdrawn report needs no follow-up: listed only when asked for.
    ws.reports().withdraw(RIDER, yanta, "fixed already")
    assert yanta not in {c.report.id for c in ws.cases().list(w.CaseQuery())}
    listed = ws.cases().list(w.CaseQuery(include_withdrawn=True))
    withdrawn = next(c for c in listed if c.report.id == yanta)
    assert withdrawn.open311_status == w.Open311Status.CLOSED

    with pytest.raises(w.WaystationError.InvalidInput, match="610199"):
        ws.cases().list(w.CaseQuery(districts=["610199"]))


def test_photo_attach_and_the_exports_are_coroutines(ws):
    rid = submitted(ws)
    draft = ws.reports().create_draft(RIDER, "road.hazard")
    calls = [
        ws.reports().attach_photo(draft, JPEG, RULES),
        ws.reports().export_open311(rid),
        ws.reports().export_geojson([rid]),
        ws.reports().export_geojson_by(RIDER),
    ]
    assert all(inspect.iscoroutine(c) for c in calls)

    async def all_at_once():
        return await asyncio.gather(*calls)

    photo, open311, geojson, by_author = asyncio.run(all_at_once())
    assert ws.reports().get(draft).photos == [photo]
    assert open311.service_request_id == rid
    assert json.loads(geojson) == json.loads(by_author)


def test_two_devices_merge_case_documents(tmp_path):
    a = open_device(tmp_path / "a")
    rid = submitted(a)
    # A device without the report cannot hold its case.
    b = open_device(tmp_path / "b")
    with pytest.raises(w.WaystationError.NotFound):
        b.cases().merge_from(rid, a.cases().document_bytes(rid))

    # Two follow-up devices holding the same report (here: a copy of a's data directory, as
    # sync would leave it) record conflicting events offline, then exchange case bytes.
    a.cases().record(rid, "staff-1", w.CaseRole.STATION_STAFF, w.CaseEventKind.ACKNOWLEDGE(), "")
    del a
    shutil.copytree(tmp_path / "a", tmp_path / "c")
    a = open_device(tmp_path / "a")
    c = open_device(tmp_path / "c")
    a.cases().record(rid, "grid-1", w.CaseRole.GRID_WORKER, w.CaseEventKind.RESOLVE(), "")
    c.cases().record(
        rid, "sup-1", w.CaseRole.SUPERVISOR, w.CaseEventKind.REJECT(reason="not food"), ""
    )
    merged_c = c.cases().merge_from(rid, a.cases().document_bytes(rid))
    merged_a = a.cases().merge_from(rid, c.cases().document_bytes(rid))
    assert merged_a == merged_c
    # Both closing events are kept in the timeline; the fold applies the first one only.
    assert len(merged_a.timeline) == 3
    assert merged_a.status in (w.CaseStatus.RESOLVED, w.CaseStatus.REJECTED)
    assert [t.applied for t in merged_a.timeline] == [True, True, False]
    assert merged_a.timeline[2].not_applied_because
    assert a.cases().merge_from(rid, c.cases().document_bytes(rid)) == merged_a
    with pytest.raises(w.WaystationError.InvalidInput):
        a.cases().merge_from(rid, b"not a case document")


def test_nearby_duplicates_nearest_first(ws):
    first = submitted(ws, 34.25, 108.95)
    far = submitted(ws, 34.26, 108.95)
    near = submitted(ws, 34.2501, 108.95)
    other_kind = ws.reports().create_draft(RIDER, "road.hazard")
    ws.reports().update_draft(other_kind, w.ReportPatch(district=BEILIN))
    ws.reports().set_position(other_kind, fix(34.25, 108.95))
    ws.reports().submit(RIDER, other_kind, RULES)

    found = ws.reports().nearby_duplicates(first, w.DuplicateRules())
    assert [d.report.id for d in found] == [near]
    assert found[0].distance_m < 20 and found[0].case_status == w.CaseStatus.OPEN
    wide = ws.reports().nearby_duplicates(first, w.DuplicateRules(radius_m=5000.0))
    assert [d.report.id for d in wide] == [near, far]
    with pytest.raises(w.WaystationError.InvalidInput, match="radius"):
        ws.reports().nearby_duplicates(first, w.DuplicateRules(radius_m=-1.0))
    draft = ws.reports().create_draft(RIDER, "food.seal")
    with pytest.raises(w.WaystationError.InvalidInput, match="no position"):
        ws.reports().nearby_duplicates(draft, w.DuplicateRules())
    case = ws.cases().record(
        near, "sup", w.CaseRole.SUPERVISOR, w.CaseEventKind.MARK_DUPLICATE(of=first), ""
    )
    assert case.status == w.CaseStatus.DUPLICATE and case.duplicate_of == first
    # A bad id in `of` is the core's InvalidInput naming the field (not uniffi's lift failure).
    with pytest.raises(w.WaystationError.InvalidInput, match="mark_duplicate 'of'"):
        ws.cases().record(
            far, "sup", w.CaseRole.SUPERVISOR, w.CaseEventKind.MARK_DUPLICATE(of="nope"), ""
        )
    assert ws.cases().get(far).status == w.CaseStatus.OPEN
    with pytest.raises(w.WaystationError.InvalidInput, match="itself"):
        ws.cases().record(first, "sup", w.CaseRole.SUPERVISOR, w.CaseEventKind.MARK_DUPLICATE(of=first), "")


def test_report_summaries_list_from_the_index(ws):
    draft = ws.reports().create_draft(RIDER, "road.hazard")
    sent = submitted(ws)
    rows = ws.reports().summaries(RIDER, None)
    assert {r.id for r in rows} == {sent, draft}
    assert rows[0].created_at >= rows[1].created_at  # newest first
    by_id = {r.id: r for r in rows}
    assert by_id[sent].status == w.ReportStatus.SUBMITTED and by_id[sent].category == "food.seal"
    assert by_id[sent].lat is not None and by_id[sent].submitted_at is not None
    assert by_id[draft].lat is None and by_id[draft].submitted_at is None
    assert (by_id[sent].district, by_id[draft].district) == (BEILIN, None)
    drafts = ws.reports().summaries(RIDER, w.ReportStatus.DRAFT)
    assert [r.id for r in drafts] == [draft]
    assert ws.reports().summaries("someone-else", None) == []


def test_districts_are_checked_and_taken_from_the_nearest_station(data_dir, pack_bytes):
    districts = w.xian_districts()
    assert len(districts) == 13
    yanta = next(d for d in districts if d.code == "610113")
    assert (yanta.name_zh, yanta.name_en, yanta.is_county) == ("雁塔区", "Yanta", False)
    assert [d.code for d in districts if d.is_county] == ["610122", "610124"]

    ws = open_device(data_dir)
    run(ws.packs().import_stations(pack_bytes))
    rid = ws.reports().create_draft(RIDER, "road.hazard")
    before = ws.reports().update_draft(rid, w.ReportPatch(district="610113"))
    assert before.district == "610113"
    for bad in ["610199", "Yanta", "6101"]:
        with pytest.raises(w.WaystationError.InvalidInput, match=f"district '{bad}' is not"):
            ws.reports().update_draft(rid, w.ReportPatch(district=bad, description="changed"))
        assert ws.reports().get(rid) == before
    assert ws.reports().update_draft(rid, w.ReportPatch(district="")).district is None

    # At the Bell Tower with no district chosen: the nearest red station's district is used.
    ws.reports().set_position(rid, fix(34.25953, 108.94235))
    assert ws.reports().check(rid, RULES).problems == []
    station = ws.stations().nearest(
        w.NearestQuery(
            position=w.Position(lat=34.25953, lon=108.94235, datum=w.Datum.WGS84),
            limit=1,
            filter=w.StationFilter(services=[], open_only=False, max_distance_m=None),
        )
    )[0].station
    r = ws.reports().submit(RIDER, rid, RULES)
    assert r.district == station.district
    assert ws.reports().summaries(RIDER, w.ReportStatus.SUBMITTED)[0].district == station.district
