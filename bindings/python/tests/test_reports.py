"""Hazard reports through the Python bindings: drafts, evidence, photos, submission, cases,
Open311 export, merging case documents between devices, and nearby duplicates.

Every test opens its own data directory (a phone) with nothing installed: reports need no pack,
only a district, which the tests set (with a station pack it comes from the nearest station).
"""

import datetime as dt
import json
import shutil
import struct
from pathlib import Path

import pytest

import waystation as w
from conftest import demo_config

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


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def open_device(path: Path) -> w.Waystation:
    return w.Waystation(str(path), demo_config())


@pytest.fixture
def ws(data_dir: Path) -> w.Waystation:
    return open_device(data_dir)


RULES = w.default_report_rules()


def fix(lat: float, lon: float, datum=w.Datum.WGS84, accuracy=10.0, mock=False) -> w.LocationFix:
    return w.LocationFix(
        lat=lat, lon=lon, datum=datum, accuracy_m=accuracy, fix_time=now(), mock=mock
    )


def submitted(ws: w.Waystation, lat: float = 34.25, lon: float = 108.95, author=RIDER) -> str:
    """A complete food-seal report, submitted; returns its id."""
    rid = ws.create_report_draft(author, "food.seal")
    ws.update_report_draft(rid, w.ReportPatch(merchant_name="Lao Wang", district=BEILIN))
    ws.set_report_position(rid, fix(lat, lon))
    ws.submit_report(author, rid, RULES)
    return rid


def test_categories_and_default_rules():
    codes = [c.code for c in w.report_categories()]
    assert "food.seal" in codes and "road.hazard" in codes and "other" in codes
    seal = next(c for c in w.report_categories() if c.code == "food.seal")
    assert seal.group == "food" and seal.needs_merchant and seal.label_zh
    assert RULES == w.ReportRules()
    assert RULES.warn_accuracy_m == 50.0 and RULES.max_photos == 6
    assert w.default_duplicate_rules() == w.DuplicateRules(radius_m=50.0, max_age_days=7)


def test_a_draft_is_created_updated_and_positioned(ws):
    rid = ws.create_report_draft(RIDER, "food.seal")
    r = ws.report(rid)
    assert r.status == w.ReportStatus.DRAFT and r.category == "food.seal"
    assert r.outbox is None and r.position is None

    r = ws.update_report_draft(
        rid, w.ReportPatch(description="seal torn", merchant_name="Lao Wang", address="Yanta Rd")
    )
    assert (r.description, r.merchant_name, r.address) == ("seal torn", "Lao Wang", "Yanta Rd")
    r = ws.update_report_draft(rid, w.ReportPatch(category="food.hygiene"))
    assert r.category == "food.hygiene" and r.description == "seal torn"

    # GCJ-02 in (as Amap gives it), WGS-84 stored beside the source coordinates.
    r = ws.set_report_position(rid, fix(34.2, 108.9, datum=w.Datum.GCJ02, accuracy=None))
    p = r.position
    assert p.datum == w.Datum.GCJ02 and (p.source_lat, p.source_lon) == (34.2, 108.9)
    back = w.convert_coordinate(w.Coordinate(lat=p.lat, lon=p.lon, datum=w.Datum.WGS84), w.Datum.GCJ02)
    assert abs(back.lat - 34.2) < 1e-6 and abs(back.lon - 108.9) < 1e-6
    assert abs(p.lat - 34.2) > 1e-4 and p.accuracy_m is None

    assert [d.id for d in ws.list_report_drafts(RIDER)] == [rid]
    # No station pack: the district must be chosen before submitting.
    assert [p.field for p in ws.check_report(rid, RULES).problems] == ["district"]
    assert ws.update_report_draft(rid, w.ReportPatch(district=BEILIN)).district == BEILIN
    check = ws.check_report(rid, RULES)
    assert check.can_submit
    assert [x.message for x in check.warnings] == ["accuracy unknown"]

    ws.delete_report_draft(RIDER, rid)
    with pytest.raises(w.WaystationError.NotFound):
        ws.report(rid)


def test_edits_are_durable_across_reopening(data_dir):
    ws = open_device(data_dir)
    rid = ws.create_report_draft(RIDER, "road.hazard")
    ws.update_report_draft(rid, w.ReportPatch(description="pothole"))
    del ws
    assert open_device(data_dir).report(rid).description == "pothole"


def test_a_photo_is_stripped_and_stored_once(ws):
    rid = ws.create_report_draft(RIDER, "road.hazard")
    photo = ws.attach_report_photo(rid, JPEG, RULES)
    assert photo.media_type == "image/jpeg" and (photo.width, photo.height) == (1, 1)
    stored = Path(ws.report_photo_path(photo.sha256)).read_bytes()
    assert stored.startswith(b"\xff\xd8") and stored.endswith(b"\xff\xd9")
    assert b"Exif" not in stored and b"secret" not in stored
    assert EXIF in JPEG and len(stored) == photo.size_bytes < len(JPEG)
    assert ws.attach_report_photo(rid, JPEG, RULES) == photo
    assert [p.sha256 for p in ws.report(rid).photos] == [photo.sha256]
    r = ws.remove_report_photo(rid, photo.sha256)
    assert r.photos == []


def test_bad_photos_are_refused_and_the_draft_kept(ws):
    rid = ws.create_report_draft(RIDER, "road.hazard")
    ws.update_report_draft(rid, w.ReportPatch(description="pothole"))
    with pytest.raises(w.WaystationError.InvalidInput, match="not a JPEG, PNG or WebP"):
        ws.attach_report_photo(rid, b"definitely not a picture", RULES)
    with pytest.raises(w.WaystationError.InvalidInput, match="truncated"):
        ws.attach_report_photo(rid, JPEG[:-2], RULES)
    with pytest.raises(w.WaystationError.InvalidInput, match="at most 100 bytes"):
        ws.attach_report_photo(rid, JPEG, w.ReportRules(max_photo_bytes=100))
    one = w.ReportRules(max_photos=1)
    ws.attach_report_photo(rid, JPEG, one)
    other = JPEG.replace(b"secret comment", b"other comment!")
    assert other != JPEG
    # Same pixels after stripping: stored once, so it still fits.
    ws.attach_report_photo(rid, other, one)
    r = ws.report(rid)
    assert len(r.photos) == 1 and r.description == "pothole"


def test_bad_input_is_refused_and_the_draft_kept(ws):
    with pytest.raises(w.WaystationError.InvalidInput, match="unknown report category 'food.nope'"):
        ws.create_report_draft(RIDER, "food.nope")
    rid = ws.create_report_draft(RIDER, "food.seal")
    ws.update_report_draft(rid, w.ReportPatch(description="kept"))
    with pytest.raises(w.WaystationError.InvalidInput, match="unknown report category"):
        ws.update_report_draft(rid, w.ReportPatch(category="nope"))
    with pytest.raises(w.WaystationError.InvalidInput, match="4000"):
        ws.update_report_draft(rid, w.ReportPatch(description="x" * 4001))
    for lat, lon in [(91.0, 108.9), (34.2, 181.0), (float("nan"), 108.9), (0.0, 0.0)]:
        with pytest.raises(w.WaystationError.InvalidInput):
            ws.set_report_position(rid, fix(lat, lon))
    with pytest.raises(w.WaystationError.InvalidInput, match="accuracy"):
        ws.set_report_position(rid, fix(34.2, 108.9, accuracy=-1.0))
    with pytest.raises(w.WaystationError.InvalidInput):
        ws.report("not-a-uuid")
    with pytest.raises(w.WaystationError.NotFound):
        ws.report(UNKNOWN_ID)
    r = ws.report(rid)
    assert r.description == "kept" and r.position is None and r.category == "food.seal"

    # Every problem at once.
    check = ws.check_report(rid, RULES)
    assert not check.can_submit
    assert sorted(p.field for p in check.problems) == ["district", "merchant_name", "position"]
    with pytest.raises(w.WaystationError.InvalidInput, match="position: .*merchant_name: .*district: "):
        ws.submit_report(RIDER, rid, RULES)
    assert ws.report(rid).status == w.ReportStatus.DRAFT


def test_submit_once_then_withdraw_with_outbox_state(ws):
    rid = submitted(ws)
    r = ws.report(rid)
    assert r.status == w.ReportStatus.SUBMITTED and r.submitted_at is not None
    assert r.outbox == w.OutboxState.PENDING()
    with pytest.raises(w.WaystationError.InvalidInput, match="already submitted"):
        ws.submit_report(RIDER, rid, RULES)
    with pytest.raises(w.WaystationError.InvalidInput, match="cannot be edited"):
        ws.update_report_draft(rid, w.ReportPatch(description="late"))
    with pytest.raises(w.WaystationError.InvalidInput):
        ws.delete_report_draft(RIDER, rid)

    at = dt.datetime(2026, 11, 29, 1, 0, tzinfo=dt.timezone.utc)
    ws.record_report_delivery(rid, w.OutboxState.REFUSED(reason="bad seal photo", at=at))
    assert ws.report(rid).outbox == w.OutboxState.REFUSED(reason="bad seal photo", at=at)
    ws.record_report_delivery(rid, w.OutboxState.SENT(at=at))
    assert ws.report(rid).outbox == w.OutboxState.SENT(at=at)

    with pytest.raises(w.WaystationError.InvalidInput, match="another author"):
        ws.withdraw_report("someone-else", rid, "no")
    r = ws.withdraw_report(RIDER, rid, "fixed already")
    assert r.status == w.ReportStatus.WITHDRAWN and r.withdraw_reason == "fixed already"
    assert [x.id for x in ws.reports_by(RIDER)] == [rid]
    assert ws.export_open311(rid).status == w.Open311Status.CLOSED


def test_case_events_by_roles_and_open311(ws):
    rid = submitted(ws)
    case = ws.report_case(rid)
    assert case.status == w.CaseStatus.OPEN and case.timeline == []
    # Not dispatched yet: the agency responsible is the report's district.
    assert ws.export_open311(rid).agency_responsible == BEILIN
    case = ws.record_case_event(rid, "staff-1", w.CaseRole.STATION_STAFF, w.CaseEventKind.ACKNOWLEDGE(), "on it")
    assert case.status == w.CaseStatus.ACKNOWLEDGED
    ev = case.timeline[0].event
    assert (ev.actor, ev.role, ev.note) == ("staff-1", w.CaseRole.STATION_STAFF, "on it")
    assert ev.kind == w.CaseEventKind.ACKNOWLEDGE()

    with pytest.raises(w.WaystationError.InvalidInput, match="station_staff may not resolve"):
        ws.record_case_event(rid, "staff-1", w.CaseRole.STATION_STAFF, w.CaseEventKind.RESOLVE(), "")
    with pytest.raises(w.WaystationError.InvalidInput, match="riders cannot write case events"):
        ws.record_case_event(rid, RIDER, w.CaseRole.RIDER, w.CaseEventKind.NOTE(), "")
    with pytest.raises(w.WaystationError.InvalidInput, match="reason"):
        ws.record_case_event(rid, "sup", w.CaseRole.SUPERVISOR, w.CaseEventKind.REJECT(reason=" "), "")
    with pytest.raises(w.WaystationError.NotFound):
        ws.record_case_event(UNKNOWN_ID, "sup", w.CaseRole.SUPERVISOR, w.CaseEventKind.NOTE(), "")
    draft = ws.create_report_draft(RIDER, "road.hazard")
    with pytest.raises(w.WaystationError.InvalidInput, match="draft"):
        ws.record_case_event(draft, "sup", w.CaseRole.SUPERVISOR, w.CaseEventKind.NOTE(), "")
    with pytest.raises(w.WaystationError.InvalidInput, match="draft"):
        ws.export_open311(draft)

    case = ws.record_case_event(
        rid, "sup", w.CaseRole.SUPERVISOR, w.CaseEventKind.DISPATCH(grid_id="yanta-07"), ""
    )
    assert case.status == w.CaseStatus.IN_PROGRESS and case.grid_id == "yanta-07"
    o = ws.export_open311(rid)
    assert (o.service_code, o.status, o.agency_responsible) == ("food.seal", w.Open311Status.OPEN, "yanta-07")
    assert (o.lat, o.long) == (34.25, 108.95)

    case = ws.record_case_event(rid, "grid-1", w.CaseRole.GRID_WORKER, w.CaseEventKind.RESOLVE(), "fixed")
    assert case.status == w.CaseStatus.RESOLVED and case.open311_status == w.Open311Status.CLOSED
    assert len(case.timeline) == 3 and case.updated_at is not None
    o = ws.export_open311(rid)
    assert o.status == w.Open311Status.CLOSED and o.status_notes
    geo = json.loads(ws.export_geojson([rid]))
    assert geo["type"] == "FeatureCollection"
    assert geo["features"][0]["geometry"]["coordinates"] == [108.95, 34.25]
    assert json.loads(ws.export_geojson_by(RIDER))["features"][0]["id"] == rid


def test_two_devices_merge_case_documents(tmp_path):
    a = open_device(tmp_path / "a")
    rid = submitted(a)
    # A device without the report cannot hold its case.
    b = open_device(tmp_path / "b")
    with pytest.raises(w.WaystationError.NotFound):
        b.merge_case_from(rid, a.case_document_bytes(rid))

    # Two follow-up devices holding the same report (here: a copy of a's data directory, as
    # sync would leave it) record conflicting events offline, then exchange case bytes.
    a.record_case_event(rid, "staff-1", w.CaseRole.STATION_STAFF, w.CaseEventKind.ACKNOWLEDGE(), "")
    del a
    shutil.copytree(tmp_path / "a", tmp_path / "c")
    a = open_device(tmp_path / "a")
    c = open_device(tmp_path / "c")
    a.record_case_event(rid, "grid-1", w.CaseRole.GRID_WORKER, w.CaseEventKind.RESOLVE(), "")
    c.record_case_event(
        rid, "sup-1", w.CaseRole.SUPERVISOR, w.CaseEventKind.REJECT(reason="not food"), ""
    )
    merged_c = c.merge_case_from(rid, a.case_document_bytes(rid))
    merged_a = a.merge_case_from(rid, c.case_document_bytes(rid))
    assert merged_a == merged_c
    # Both closing events are kept in the timeline; the fold applies the first one only.
    assert len(merged_a.timeline) == 3
    assert merged_a.status in (w.CaseStatus.RESOLVED, w.CaseStatus.REJECTED)
    assert [t.applied for t in merged_a.timeline] == [True, True, False]
    assert merged_a.timeline[2].not_applied_because
    assert a.merge_case_from(rid, c.case_document_bytes(rid)) == merged_a
    with pytest.raises(w.WaystationError.InvalidInput):
        a.merge_case_from(rid, b"not a case document")


def test_nearby_duplicates_nearest_first(ws):
    first = submitted(ws, 34.25, 108.95)
    far = submitted(ws, 34.26, 108.95)
    near = submitted(ws, 34.2501, 108.95)
    other_kind = ws.create_report_draft(RIDER, "road.hazard")
    ws.update_report_draft(other_kind, w.ReportPatch(district=BEILIN))
    ws.set_report_position(other_kind, fix(34.25, 108.95))
    ws.submit_report(RIDER, other_kind, RULES)

    found = ws.nearby_duplicates(first, w.DuplicateRules())
    assert [d.report.id for d in found] == [near]
    assert found[0].distance_m < 20 and found[0].case_status == w.CaseStatus.OPEN
    wide = ws.nearby_duplicates(first, w.DuplicateRules(radius_m=5000.0))
    assert [d.report.id for d in wide] == [near, far]
    with pytest.raises(w.WaystationError.InvalidInput, match="radius"):
        ws.nearby_duplicates(first, w.DuplicateRules(radius_m=-1.0))
    draft = ws.create_report_draft(RIDER, "food.seal")
    with pytest.raises(w.WaystationError.InvalidInput, match="no position"):
        ws.nearby_duplicates(draft, w.DuplicateRules())
    case = ws.record_case_event(
        near, "sup", w.CaseRole.SUPERVISOR, w.CaseEventKind.MARK_DUPLICATE(of=first), ""
    )
    assert case.status == w.CaseStatus.DUPLICATE and case.duplicate_of == first
    with pytest.raises(w.WaystationError.InvalidInput, match="itself"):
        ws.record_case_event(first, "sup", w.CaseRole.SUPERVISOR, w.CaseEventKind.MARK_DUPLICATE(of=first), "")


def test_report_summaries_list_from_the_index(ws):
    draft = ws.create_report_draft(RIDER, "road.hazard")
    sent = submitted(ws)
    rows = ws.report_summaries(RIDER, None)
    assert {r.id for r in rows} == {sent, draft}
    assert rows[0].created_at >= rows[1].created_at  # newest first
    by_id = {r.id: r for r in rows}
    assert by_id[sent].status == w.ReportStatus.SUBMITTED and by_id[sent].category == "food.seal"
    assert by_id[sent].lat is not None and by_id[sent].submitted_at is not None
    assert by_id[draft].lat is None and by_id[draft].submitted_at is None
    assert (by_id[sent].district, by_id[draft].district) == (BEILIN, None)
    drafts = ws.report_summaries(RIDER, w.ReportStatus.DRAFT)
    assert [r.id for r in drafts] == [draft]
    assert ws.report_summaries("someone-else", None) == []


def test_districts_are_checked_and_taken_from_the_nearest_station(data_dir, pack_bytes):
    districts = w.xian_districts()
    assert len(districts) == 13
    yanta = next(d for d in districts if d.code == "610113")
    assert (yanta.name_zh, yanta.name_en, yanta.is_county) == ("雁塔区", "Yanta", False)
    assert [d.code for d in districts if d.is_county] == ["610122", "610124"]

    ws = open_device(data_dir)
    ws.import_station_pack(pack_bytes)
    rid = ws.create_report_draft(RIDER, "road.hazard")
    before = ws.update_report_draft(rid, w.ReportPatch(district="610113"))
    assert before.district == "610113"
    for bad in ["610199", "Yanta", "6101"]:
        with pytest.raises(w.WaystationError.InvalidInput, match=f"district '{bad}' is not"):
            ws.update_report_draft(rid, w.ReportPatch(district=bad, description="changed"))
        assert ws.report(rid) == before
    assert ws.update_report_draft(rid, w.ReportPatch(district="")).district is None

    # At the Bell Tower with no district chosen: the nearest red station's district is used.
    ws.set_report_position(rid, fix(34.25953, 108.94235))
    assert ws.check_report(rid, RULES).can_submit
    station = ws.nearest_stations(
        w.NearestQuery(
            position=w.Coordinate(lat=34.25953, lon=108.94235, datum=w.Datum.WGS84),
            limit=1,
            filter=w.StationFilter(services=[], open_only=False, max_distance_m=None),
        )
    )[0].station
    r = ws.submit_report(RIDER, rid, RULES)
    assert r.district == station.district
    assert ws.report_summaries(RIDER, w.ReportStatus.SUBMITTED)[0].district == station.district
