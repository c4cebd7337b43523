"""The Python bindings against the real library and the signed Xi'an sample pack: the
`Waystation` object and its handles (`stations()`, `packs()`), the free functions on positions,
services and hours, the options' defaults, and the errors.

Every test opens its own data directory. Times are fixed: nothing depends on the wall clock.
"""

import asyncio
import base64
import datetime as dt
import inspect
import json
import math
import os

import pytest

import waystation as w
from conftest import demo_options, run

UTC = dt.timezone.utc
PACK_ID = "xian-red-stations"
YANTA = "610113"

# The Bell Tower of Xi'an, WGS-84.
BELL_TOWER = w.Position(lat=34.25953, lon=108.94235, datum=w.Datum.WGS84)

# Wednesday 2 December 2026, 11:00 in Xi'an (UTC+8): most stations are open.
WEDNESDAY_11H = dt.datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
# Thursday 3 December 2026, 03:00 in Xi'an: most stations are closed.
THURSDAY_03H = dt.datetime(2026, 12, 2, 19, 0, tzinfo=UTC)
# Saturday 5 December 2026, 11:00 in Xi'an.
SATURDAY_11H = dt.datetime(2026, 12, 5, 3, 0, tzinfo=UTC)


def nearest(ws, limit=5, services=(), open_only=False, max_distance_m=None, at=WEDNESDAY_11H,
            position=BELL_TOWER):
    return ws.stations().nearest(
        w.NearestQuery(
            position=position,
            limit=limit,
            filter=w.StationFilter(
                services=list(services), open_only=open_only, max_distance_m=max_distance_m
            ),
            at=at,
        )
    )


def coord(lat, lon, datum=w.Datum.WGS84):
    return w.Position(lat=lat, lon=lon, datum=datum)


def within(ws, center, radius_m, at=None):
    return ws.stations().within(w.WithinQuery(center=center, radius_m=radius_m, at=at))


# --- import ------------------------------------------------------------------------------


def test_import_installs_the_sample_pack(ws):
    packs = ws.packs().installed()
    assert [p.pack_id for p in packs] == [PACK_ID]
    pack = packs[0]
    assert pack.kind == "stations"
    assert pack.key_id == w.demo_publisher_key().key_id
    assert pack.synthetic
    assert len(pack.sha256) == 64
    assert 1000 <= ws.stations().count() <= 1500


def test_reimport_of_the_same_pack_is_unchanged(ws, pack_bytes):
    count = ws.stations().count()
    again = run(ws.packs().import_stations(pack_bytes))
    assert again.unchanged is True
    assert again.pack_id == PACK_ID
    assert again.stations == count
    assert ws.stations().count() == count


def test_import_from_file(data_dir, pack_bytes, tmp_path):
    path = tmp_path / "pack.json"
    path.write_bytes(pack_bytes)
    ws = w.Waystation(str(data_dir), demo_options())
    result = run(ws.packs().import_stations_file(str(path)))
    assert result.pack_id == PACK_ID
    assert result.version >= 1
    assert result.previous_version is None
    assert result.stations == ws.stations().count()
    assert result.unchanged is False


def test_data_survives_reopening(data_dir, pack_bytes):
    first = w.Waystation(str(data_dir), demo_options())
    run(first.packs().import_stations(pack_bytes))
    count = first.stations().count()
    del first
    second = w.Waystation(str(data_dir), demo_options())
    assert second.stations().count() == count
    assert len(nearest(second, limit=3)) == 3


def test_pack_import_is_a_coroutine_that_leaves_the_event_loop_free(data_dir, pack_bytes):
    ws = w.Waystation(str(data_dir), demo_options())
    call = ws.packs().import_stations(pack_bytes)
    assert inspect.iscoroutine(call)

    async def import_while_ticking():
        ticks = 0
        task = asyncio.ensure_future(call)
        while not task.done():
            await asyncio.sleep(0.001)
            ticks += 1
        return await task, ticks

    result, ticks = asyncio.run(import_while_ticking())
    assert result.pack_id == PACK_ID and result.stations == ws.stations().count()
    # Verifying the pack and building the index ran on the library's executor: the loop kept
    # turning meanwhile.
    assert ticks > 1


# --- the Waystation object and its handles ----------------------------------------------


def test_the_handles_share_one_core_and_outlive_the_waystation_object(data_dir, pack_bytes):
    ws = w.Waystation(str(data_dir), demo_options())
    stations, packs = ws.stations(), ws.packs()
    assert stations.count() == 0
    run(packs.import_stations(pack_bytes))
    # Every handle (old or new) sees what another one did: they are views of one core.
    assert stations.count() == ws.stations().count() > 1000
    assert [p.pack_id for p in ws.packs().installed()] == [PACK_ID]
    assert isinstance(ws.reports(), w.Reports) and isinstance(ws.cases(), w.Cases)
    assert isinstance(ws.training(), w.Training) and isinstance(ws.sync(), w.SyncClient)
    count = stations.count()
    # A handle keeps the core open after the app dropped its Waystation.
    del ws
    assert stations.count() == count
    assert len(stations.nearest(w.NearestQuery(position=BELL_TOWER))) == 5
    assert [p.pack_id for p in packs.installed()] == [PACK_ID]


def test_options_and_queries_have_defaults_instead_of_magic_values(ws):
    # Only what matters must be given; the rest has documented defaults.
    assert w.Options(trusted_keys=[]).max_pack_bytes is None
    assert w.StationFilter() == w.StationFilter(services=[], open_only=False, max_distance_m=None)
    query = w.NearestQuery(position=BELL_TOWER)
    assert query == w.NearestQuery(position=BELL_TOWER, limit=5, filter=w.StationFilter(), at=None)
    assert w.WithinQuery(center=BELL_TOWER, radius_m=500.0) == w.WithinQuery(
        center=BELL_TOWER, radius_m=500.0, filter=w.StationFilter(), at=None)
    # No time given: now. Five hits, the same stations as when asking explicitly.
    hits = ws.stations().nearest(query)
    assert [h.station.id for h in hits] == [h.station.id for h in nearest(ws, limit=5)]
    assert within(ws, BELL_TOWER, 500.0)


@pytest.mark.parametrize("limit", [0, -1, -(2**40)])
def test_a_pack_limit_below_one_is_refused_by_name(data_dir, limit):
    with pytest.raises(w.WaystationError.InvalidInput) as e:
        w.Waystation(str(data_dir), w.Options(trusted_keys=[], max_pack_bytes=limit))
    assert "max_pack_bytes" in e.value.reason and str(limit) in e.value.reason


def test_the_pack_limit_is_the_pack_file_limit_too(data_dir, pack_bytes, tmp_path):
    path = tmp_path / "pack.json"
    path.write_bytes(pack_bytes)
    small = w.Waystation(str(data_dir), w.Options(
        trusted_keys=[w.demo_publisher_key()], max_pack_bytes=len(pack_bytes) - 1))
    with pytest.raises(w.WaystationError.InvalidInput, match=f"limit of {len(pack_bytes) - 1} bytes"):
        run(small.packs().import_stations_file(str(path)))
    exact = w.Waystation(str(data_dir), w.Options(
        trusted_keys=[w.demo_publisher_key()], max_pack_bytes=len(pack_bytes)))
    assert run(exact.packs().import_stations_file(str(path))).pack_id == PACK_ID


# --- nearest -----------------------------------------------------------------------------


def test_nearest_is_sorted_by_distance_and_respects_the_limit(ws):
    for limit in (1, 3, 10, 50):
        hits = nearest(ws, limit=limit)
        assert len(hits) == limit
        distances = [h.distance_m for h in hits]
        assert distances == sorted(distances)
        assert all(d >= 0 for d in distances)
    hits = nearest(ws, limit=10)
    for h in hits:
        # The distance is the geodesic from the query point to the WGS-84 position.
        assert h.station.position.datum == w.Datum.WGS84
        assert math.isclose(
            h.distance_m, w.geodesic_distance(BELL_TOWER, h.station.position), abs_tol=1e-3
        )
        assert 0 <= h.bearing_deg < 360
    # The Bell Tower is in the city centre: the nearest station is close by.
    assert hits[0].distance_m < 2000


def test_query_in_another_datum_gives_the_same_answer(ws):
    gcj = w.convert_position(BELL_TOWER, w.Datum.GCJ02)
    assert gcj.datum == w.Datum.GCJ02
    from_wgs = nearest(ws, limit=5)
    from_gcj = nearest(ws, limit=5, position=gcj)
    assert [h.station.id for h in from_gcj] == [h.station.id for h in from_wgs]
    for a, b in zip(from_gcj, from_wgs):
        assert abs(a.distance_m - b.distance_m) < 0.01


def test_every_hit_has_all_requested_services(ws):
    wanted = [w.Service.EBIKE_CHARGING, w.Service.TOILET]
    hits = nearest(ws, limit=20, services=wanted)
    assert len(hits) == 20
    for h in hits:
        assert set(wanted) <= set(h.station.services)
    distances = [h.distance_m for h in hits]
    assert distances == sorted(distances)
    # The filter removed something: the unfiltered nearest 20 are not all the same stations.
    assert [h.station.id for h in hits] != [h.station.id for h in nearest(ws, limit=20)]


def test_open_only_at_a_fixed_time_returns_only_open_stations(ws):
    for at in (WEDNESDAY_11H, THURSDAY_03H, SATURDAY_11H):
        hits = nearest(ws, limit=100, open_only=True, at=at)
        assert hits, f"no open station at {at}"
        for h in hits:
            assert h.status == w.OpenStatus.OPEN
            # Agrees with evaluating the station's own hours at that time.
            assert w.hours_status(h.station.opening_hours, at).status == w.OpenStatus.OPEN
    # At 03:00 far fewer stations are open than at 11:00.
    day = nearest(ws, limit=1000, open_only=True, at=WEDNESDAY_11H)
    night = nearest(ws, limit=1000, open_only=True, at=THURSDAY_03H)
    assert len(night) < len(day)


def test_max_distance_is_respected(ws):
    hits = nearest(ws, limit=1000, max_distance_m=1500.0)
    assert hits
    assert all(h.distance_m <= 1500.0 for h in hits)
    everything = nearest(ws, limit=1000)
    assert [h.station.id for h in hits] == [
        h.station.id for h in everything if h.distance_m <= 1500.0
    ]
    assert nearest(ws, limit=5, max_distance_m=0.0) == []


def test_station_with_unknown_hours_is_never_open(ws):
    for at in (WEDNESDAY_11H, THURSDAY_03H, SATURDAY_11H):
        hits = nearest(ws, limit=1000, at=at)
        unknown = [
            h
            for h in hits
            if w.hours_status(h.station.opening_hours, at).status == w.OpenStatus.UNKNOWN
        ]
        # The sample pack has stations without hours and with free-text hours.
        assert any(h.station.opening_hours is None for h in unknown)
        assert any(h.station.opening_hours is not None for h in unknown)
        for h in unknown:
            assert h.status == w.OpenStatus.UNKNOWN
            assert h.next_change is None
        open_ids = {h.station.id for h in nearest(ws, limit=1000, open_only=True, at=at)}
        assert open_ids.isdisjoint(h.station.id for h in unknown)


def test_stations_within_a_radius(ws):
    hits = within(ws, BELL_TOWER, 1000.0, WEDNESDAY_11H)
    assert hits
    assert all(h.distance_m <= 1000.0 for h in hits)
    distances = [h.distance_m for h in hits]
    assert distances == sorted(distances)


# --- lookups -----------------------------------------------------------------------------


def test_station_by_id(ws):
    hit = nearest(ws, limit=1)[0]
    station = ws.stations().get(hit.station.id)
    assert station == hit.station
    assert station.pack_id == PACK_ID
    assert station.name_zh


def test_search_finds_yanta_stations(ws):
    found = ws.stations().search("雁塔", 10)
    assert 1 <= len(found) <= 10
    for s in found:
        assert s.district == YANTA or "雁塔" in s.name_zh or "雁塔" in s.address_zh, s.id


def test_search_limit_is_respected(ws):
    assert len(ws.stations().search("雁塔", 3)) == 3


# --- coordinates and hours -----------------------------------------------------------------


@pytest.mark.parametrize(
    "lat,lon",
    [(34.25953, 108.94235), (39.9042, 116.4074), (31.2304, 121.4737), (22.5431, 114.0579)],
)
def test_wgs84_to_gcj02_and_back_round_trips_under_a_millimetre(lat, lon):
    original = coord(lat, lon)
    gcj = w.convert_position(original, w.Datum.GCJ02)
    assert gcj.datum == w.Datum.GCJ02
    # GCJ-02 shifts points in mainland China by hundreds of metres.
    assert w.geodesic_distance(original, coord(gcj.lat, gcj.lon)) > 50
    back = w.convert_position(gcj, w.Datum.WGS84)
    assert back.datum == w.Datum.WGS84
    assert w.geodesic_distance(original, back) < 0.001
    # geodesic_distance converts both ends to WGS-84 first.
    assert w.geodesic_distance(original, gcj) < 0.001


def test_bd09_round_trips_under_a_millimetre():
    original = coord(34.25953, 108.94235)
    bd = w.convert_position(original, w.Datum.BD09)
    back = w.convert_position(bd, w.Datum.WGS84)
    assert w.geodesic_distance(original, back) < 0.001


def test_hong_kong_is_not_shifted():
    hk = coord(22.3193, 114.1694)
    gcj = w.convert_position(hk, w.Datum.GCJ02)
    assert (gcj.lat, gcj.lon) == (22.3193, 114.1694)
    assert gcj.datum == w.Datum.GCJ02


def test_hours_status_weekday_hours():
    hours = "Mo-Fr 08:00-18:00"
    during = w.hours_status(hours, WEDNESDAY_11H)
    assert during.status == w.OpenStatus.OPEN
    # Closes at 18:00 in Xi'an, 10:00 UTC.
    assert during.next_change == dt.datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    night = w.hours_status(hours, THURSDAY_03H)
    assert night.status == w.OpenStatus.CLOSED
    # Opens at 08:00 in Xi'an on Thursday, 00:00 UTC.
    assert night.next_change == dt.datetime(2026, 12, 3, 0, 0, tzinfo=UTC)
    weekend = w.hours_status(hours, SATURDAY_11H)
    assert weekend.status == w.OpenStatus.CLOSED
    # Opens on Monday 7 December at 08:00 in Xi'an.
    assert weekend.next_change == dt.datetime(2026, 12, 7, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize("hours", [None, "", "unknown", "ask staff", "早九点到晚八点"])
def test_missing_or_unparseable_hours_are_unknown(hours):
    status = w.hours_status(hours, WEDNESDAY_11H)
    assert status.status == w.OpenStatus.UNKNOWN
    assert status.next_change is None


def test_services_and_datums_parse_by_name():
    assert w.parse_datum("gcj02") == w.Datum.GCJ02
    assert w.parse_service("ebike_charging") == w.Service.EBIKE_CHARGING
    infos = w.all_services()
    assert len(infos) == len(list(w.Service))
    for info in infos:
        assert w.parse_service(info.name) == info.service
        assert info.label_zh and info.label_en


# --- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "lat,lon",
    [(float("nan"), 108.9), (34.2, float("nan")), (90.5, 108.9), (-91.0, 108.9),
     (34.2, 180.5), (float("inf"), 108.9)],
)
def test_invalid_coordinates_are_invalid_input(empty_ws, lat, lon):
    ws = empty_ws
    bad = coord(lat, lon)
    with pytest.raises(w.WaystationError.InvalidInput):
        nearest(ws, position=bad)
    with pytest.raises(w.WaystationError.InvalidInput):
        w.convert_position(bad, w.Datum.GCJ02)
    with pytest.raises(w.WaystationError.InvalidInput):
        w.geodesic_distance(bad, BELL_TOWER)
    with pytest.raises(w.WaystationError.InvalidInput):
        within(ws, bad, 100.0)


def test_unknown_names_are_invalid_input():
    with pytest.raises(w.WaystationError.InvalidInput) as e:
        w.parse_datum("mars")
    assert "mars" in e.value.reason
    with pytest.raises(w.WaystationError.InvalidInput):
        w.parse_service("spa")


@pytest.mark.parametrize("limit", [0, 1001])
def test_limit_out_of_range_is_invalid_input(empty_ws, limit):
    ws = empty_ws
    with pytest.raises(w.WaystationError.InvalidInput):
        nearest(ws, limit=limit)


@pytest.mark.parametrize("distance", [-1.0, float("nan"), float("inf")])
def test_bad_max_distance_is_invalid_input(empty_ws, distance):
    ws = empty_ws
    with pytest.raises(w.WaystationError.InvalidInput):
        nearest(ws, max_distance_m=distance)
    with pytest.raises(w.WaystationError.InvalidInput):
        within(ws, BELL_TOWER, distance)


def test_unknown_station_is_not_found(ws):
    with pytest.raises(w.WaystationError.NotFound):
        ws.stations().get("XA-no-such-station")


def test_missing_pack_file_is_invalid_input(empty_ws, tmp_path):
    with pytest.raises(w.WaystationError.InvalidInput):
        run(empty_ws.packs().import_stations_file(str(tmp_path / "missing.pack.json")))


def tampered(pack: bytes) -> bytes:
    """The pack with one byte of its payload flipped; still valid JSON and valid base64."""
    envelope = json.loads(pack)
    payload = bytearray(base64.b64decode(envelope["payload"]))
    payload[len(payload) // 2] ^= 0x01
    envelope["payload"] = base64.b64encode(bytes(payload)).decode()
    return json.dumps(envelope, indent=2).encode()


def test_tampered_pack_is_rejected_and_installed_data_still_answers(ws, pack_bytes):
    before = [h.station.id for h in nearest(ws, limit=5)]
    count = ws.stations().count()
    packs = ws.packs().installed()
    with pytest.raises(w.WaystationError.PackRejected):
        run(ws.packs().import_stations(tampered(pack_bytes)))
    assert ws.stations().count() == count
    assert ws.packs().installed() == packs
    assert [h.station.id for h in nearest(ws, limit=5)] == before


def test_truncated_pack_is_rejected(data_dir, pack_bytes):
    ws = w.Waystation(str(data_dir), demo_options())
    with pytest.raises(w.WaystationError.PackRejected):
        run(ws.packs().import_stations(pack_bytes[: len(pack_bytes) // 2]))
    with pytest.raises(w.WaystationError.PackRejected):
        run(ws.packs().import_stations(b""))
    assert ws.stations().count() == 0
    assert ws.packs().installed() == []


def test_pack_from_an_untrusted_publisher_is_rejected(data_dir, pack_bytes):
    ws = w.Waystation(str(data_dir), w.Options(trusted_keys=[]))
    with pytest.raises(w.WaystationError.PackRejected):
        run(ws.packs().import_stations(pack_bytes))
    assert ws.stations().count() == 0


def test_oversized_pack_is_rejected(data_dir, pack_bytes):
    config = w.Options(trusted_keys=[w.demo_publisher_key()], max_pack_bytes=1024)
    ws = w.Waystation(str(data_dir), config)
    with pytest.raises(w.WaystationError.PackRejected):
        run(ws.packs().import_stations(pack_bytes))


def test_bad_trusted_key_is_invalid_input(data_dir):
    config = w.Options(
        trusted_keys=[w.TrustedPublisherKey(key_id="k", public_key="not a key")]
    )
    with pytest.raises(w.WaystationError.InvalidInput):
        w.Waystation(str(data_dir), config)


def test_data_dir_that_is_a_file_is_rejected(tmp_path):
    path = tmp_path / "not-a-dir"
    path.write_text("x")
    with pytest.raises(w.WaystationError.DataDirectory):
        w.Waystation(str(path), demo_options())


def test_read_only_data_dir_is_rejected(tmp_path):
    path = tmp_path / "read-only"
    path.mkdir()
    os.chmod(path, 0o555)
    try:
        with pytest.raises(w.WaystationError.DataDirectory):
            w.Waystation(str(path), demo_options())
    finally:
        os.chmod(path, 0o755)


# --- panics ------------------------------------------------------------------------------


def test_a_rust_panic_becomes_an_exception_and_the_library_keeps_working(ws):
    # uniffi reports a panic as its own InternalError, not as WaystationError.
    with pytest.raises(w.InternalError) as e:
        w.diagnostics_force_panic("x")
    assert "forced panic" in str(e.value)
    assert not isinstance(e.value, w.WaystationError)
    # Again, and then the library still answers, on the same object too.
    with pytest.raises(w.InternalError):
        w.diagnostics_force_panic("again")
    assert w.parse_datum("wgs84") == w.Datum.WGS84
    assert len(nearest(ws, limit=3)) == 3
    assert ws.stations().count() > 0
