"""The seed itself: the reports and case events the console shows came through the real sync
path (rider phones -> server -> station phones -> server -> rider phones)."""

from conftest import BEILIN, REPORTS, SERVER_NOW, YANTA


def test_the_staff_phones_events_reach_the_riders_phones(console):
    out = console.device("rider-b", SERVER_NOW, [
        dict(op="sync"),
        dict(op="status", report=console.ids["b_closed"]),
        dict(op="status", report=console.ids["b_light"]),
    ])
    assert out[0]["complete"]
    assert out[1]["status"] == "resolved"
    assert [(e["kind"], e["actor"]) for e in out[1]["events"]] == [
        ("acknowledge", "station-beilin"), ("resolve", "station-beilin")]
    assert out[2] == {"status": "open", "duplicate_of": None, "events": []}
    assert len(console.ids) == len(REPORTS) == 10
    assert {r["district"] for r in REPORTS.values()} == {YANTA, BEILIN}
