"""The map, the figures, the CSV download and Open311 GeoReport v2, on the seeded data.

The figures are checked on Beilin, where no test acts, against numbers worked out from the seed
(conftest.py): b_seal (October, acknowledged by the station 743 h after it was submitted),
b_light (November, open), b_closed (November, acknowledged and resolved 46 h after).
"""

import csv
import io
import json
import urllib.error
import urllib.request

from conftest import BEILIN, YANTA


def rows_of_list(console, page, query: str) -> list[str]:
    page.goto(f"{console.url}/console/cases?{query}&size=200")
    return page.locator("table.cases tbody tr td:first-child a").evaluate_all(
        "links => links.map(a => a.getAttribute('href').split('/').pop())")


def test_the_map_draws_the_districts_and_every_visible_case(console, signin):
    s = signin("sup-yanta", "zh")
    p = s.page
    with p.expect_response(lambda r: ".geojson" in r.url) as geo:
        p.goto(f"{console.url}/console/map")
    assert geo.value.status == 200
    districts = geo.value.json()["features"]
    assert {f["properties"]["code"] for f in districts} >= {YANTA, BEILIN}
    p.wait_for_selector("#map[data-points]")
    el = p.locator("#map")
    assert el.get_attribute("data-error") is None
    assert el.locator("canvas").count() >= 1
    assert el.get_attribute("data-districts") == str(len(districts))
    visible = rows_of_list(console, p, "")
    assert len(visible) == 7
    p.goto(f"{console.url}/console/map")
    p.wait_for_selector("#map[data-points]")
    assert int(p.locator("#map").get_attribute("data-points")) == len(visible)
    # The red stations of the account's district (the sample pack has 190 in Yanta).
    assert int(p.locator("#map").get_attribute("data-stations")) == 190
    # The same cases in the table beside it (the map for a screen reader).
    table = p.locator("#map-cases tbody tr").evaluate_all(
        "trs => trs.map(tr => tr.getAttribute('data-report'))")
    assert sorted(table) == sorted(visible)
    # The canvas is drawn on: some of its pixels are not the background.
    drawn = p.evaluate("""() => {
        const c = document.querySelector('#map canvas');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        const colours = new Set();
        for (let i = 0; i < d.length; i += 400) colours.add(d[i] << 16 | d[i+1] << 8 | d[i+2]);
        return colours.size;
    }""")
    assert drawn > 3, "the map's canvas is blank"


def test_the_map_follows_the_lists_filters(console, signin):
    s = signin("admin", "en")
    p = s.page
    p.goto(f"{console.url}/console/map?group=food")
    p.wait_for_selector("#map[data-points]")
    food = rows_of_list(console, p, "group=food")
    assert len(food) == 5
    p.goto(f"{console.url}/console/map?group=food")
    p.wait_for_selector("#map[data-points]")
    assert p.locator("#map").get_attribute("data-points") == "5"
    data = p.request.get(f"{console.url}/console/map.json?group=food").json()
    assert sorted(c["id"] for c in data["cases"]) == sorted(food)


def test_the_figures_show_the_seeded_numbers(console, signin):
    s = signin("admin", "zh")
    p = s.page
    p.goto(f"{console.url}/console/figures?district={BEILIN}")
    p.wait_for_load_state("networkidle")
    assert [p.locator(f"#n-{k}").inner_text() for k in ("total", "open", "closed")] == \
        ["3", "2", "1"]

    def table(id_):
        return [[c.strip() for c in tr.locator("th, td").all_inner_texts()]
                for tr in p.locator(f"#{id_} tbody tr").all()]

    assert {r[0]: r[1] for r in table("t-group") if r[1] != "0"} == {
        "食品安全": "1", "道路交通": "1", "驿站": "1"}
    months = {r[0]: r[-1] for r in table("t-month")}
    assert months == {"2026-10": "1", "2026-11": "2"}
    by_district = {r[0]: r[1:] for r in table("t-district")}
    # cases, acknowledged, median to acknowledge, resolved, median to resolve
    assert by_district["碑林区"] == ["3", "2", "394.5 小时", "1", "46.0 小时"]
    by_station = {r[0]: r[1:] for r in table("t-station")}
    assert by_station["station-beilin"] == ["2", "2", "394.5 小时", "1", "46.0 小时"]
    # Each chart is drawn beside its table.
    assert p.locator(".chart canvas").count() >= 4


def test_the_csv_download_has_the_rows_of_the_filtered_list(console, signin):
    s = signin("admin", "en")
    p = s.page
    listed = rows_of_list(console, p, "q=外卖")
    assert len(listed) == 5
    p.goto(f"{console.url}/console/cases?q=外卖")
    link = p.locator("a[href*='/console/cases.csv']")
    assert "q=" in link.get_attribute("href")
    with p.expect_download() as download:
        link.click()
    raw = open(download.value.path(), "rb").read()
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 with a BOM, for Excel"
    rows = list(csv.reader(io.StringIO(raw[3:].decode("utf-8"))))
    assert rows[0][0] == "report_id"
    assert sorted(r[0] for r in rows[1:]) == sorted(listed)
    by_id = {r[0]: r for r in rows[1:]}
    assert "外卖封签被撕开" in by_id[console.ids["y_seal"]][15]


def open311(console, token: str, query: str = ""):
    """GET requests.json as the 12345 hotline system would: a standard client (urllib) with a
    bearer token, no browser, no session."""
    req = urllib.request.Request(f"{console.url}/console/open311/v2/requests.json?{query}",
                                 headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_open311_requests_json_with_a_bearer_token(console):
    status, body = open311(console, console.tokens["admin"], f"district={BEILIN}")
    assert status == 200
    assert sorted(r["service_request_id"] for r in body) == sorted(
        console.ids[k] for k in ("b_seal", "b_light", "b_closed"))
    by_id = {r["service_request_id"]: r for r in body}
    assert by_id[console.ids["b_closed"]]["status"] == "closed"
    assert by_id[console.ids["b_light"]]["status"] == "open"
    assert by_id[console.ids["b_seal"]]["service_code"] == "food.seal"
    status, closed = open311(console, console.tokens["admin"], "status=closed")
    assert status == 200 and console.ids["b_closed"] in {r["service_request_id"] for r in closed}
    assert all(r["status"] == "closed" for r in closed)
    # No token, a wrong one, or a rider's: refused.
    for token in ("", "wst_" + "0" * 43):
        status, _ = open311(console, token)
        assert status == 401, status
    status, _ = open311(console, console.tokens["rider-a"])
    assert status == 403
