"""An account of another district sees none of district A's cases anywhere: the list, a case's
address, its photos, the map's data, the CSV, the figures, Open311, and an action posted to it.

grid-beilin follows Beilin (610103) only; Yanta (610113) is district A.
"""

import csv
import io

from conftest import YANTA
from test_data import open311

YANTA_KEYS = ["y_seal", "y_seal2", "y_hygiene", "y_manhole", "y_gate", "y_charger",
              "y_noodles"]
BEILIN_KEYS = ["b_seal", "b_light", "b_closed"]


def yanta_photos(console, signin) -> list[str]:
    """The photos of district A, as its supervisor's case pages show them."""
    s = signin("sup-yanta", "en")
    shas = []
    for key in ("y_seal", "y_hygiene"):
        s.page.goto(f"{console.url}/console/cases/{console.ids[key]}")
        shas += [src.rsplit("/", 1)[-1] for src in s.page.locator("ul.photos img").evaluate_all(
            "imgs => imgs.map(i => i.getAttribute('src'))")]
    assert shas, "the seeded Yanta reports have photos"
    # And they are real: the supervisor's browser loads them.
    assert s.context.request.get(f"{console.url}/console/photos/{shas[0]}").status == 200
    return shas


def test_another_districts_account_sees_nothing_of_district_a(console, signin):
    shas = yanta_photos(console, signin)
    yanta_ids = [console.ids[k] for k in YANTA_KEYS]
    s = signin("grid-beilin", "zh")
    p = s.page
    get = s.context.request.get

    def leaks(text: str) -> list[str]:
        return [i for i in yanta_ids + shas if i in text]

    # The list, with no filter, with a search for A's merchant, and asking for A's district.
    p.goto(f"{console.url}/console/cases?size=200")
    assert sorted(p.locator("table.cases tbody tr td:first-child a").evaluate_all(
        "as => as.map(a => a.getAttribute('href').split('/').pop())")) == sorted(
        console.ids[k] for k in BEILIN_KEYS)
    assert leaks(p.content()) == []
    assert p.locator(f"#district option[value='{YANTA}']").count() == 0
    for query in ("q=老孙家", f"district={YANTA}"):
        answer = get(f"{console.url}/console/cases?{query}")
        assert answer.status in (200, 400, 403) and leaks(answer.text()) == [], query

    # A's cases by address: the same 404 as a case that does not exist.
    for rid in yanta_ids:
        answer = p.goto(f"{console.url}/console/cases/{rid}")
        assert answer.status == 404, rid
        assert leaks(p.content()) == []
    # A's photos.
    for sha in shas:
        assert get(f"{console.url}/console/photos/{sha}").status == 404

    # The map's data, the CSV and the figures.
    data = get(f"{console.url}/console/map.json")
    assert data.status == 200
    assert sorted(c["id"] for c in data.json()["cases"]) == sorted(
        console.ids[k] for k in BEILIN_KEYS)
    assert leaks(data.text()) == []
    answer = get(f"{console.url}/console/cases.csv")
    assert answer.status == 200
    rows = list(csv.reader(io.StringIO(answer.body().decode("utf-8-sig"))))
    assert sorted(r[0] for r in rows[1:]) == sorted(console.ids[k] for k in BEILIN_KEYS)
    assert leaks(answer.text()) == []
    p.goto(f"{console.url}/console/figures")
    assert p.locator("#n-total").inner_text() == "3"
    assert "雁塔区" not in p.locator("main").inner_text()
    assert leaks(p.content()) == []

    # Open311 with the account's bearer token.
    status, body = open311(console, console.tokens["grid-beilin"])
    assert status == 200
    assert sorted(r["service_request_id"] for r in body) == sorted(
        console.ids[k] for k in BEILIN_KEYS)

    # An action posted to A's case, with this session's valid CSRF token: not found, and
    # nothing written (A's rider sees no event).
    p.goto(f"{console.url}/console/cases/{console.ids['b_light']}")
    csrf = p.locator("form.action input[name=csrf]").first.get_attribute("value")
    version = p.locator("form.action input[name=version]").first.get_attribute("value")
    answer = s.context.request.post(
        f"{console.url}/console/cases/{console.ids['y_noodles']}/events",
        form={"csrf": csrf, "version": version, "action": "note", "note": "x"},
        headers={"Origin": console.url}, max_redirects=0)
    assert answer.status == 404
    out = console.device("rider-a", "2026-12-01T06:00:00Z",
                         [dict(op="sync"), dict(op="status", report=console.ids["y_noodles"])])
    assert out[1]["events"] == []
