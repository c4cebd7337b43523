"""The case list: filters (district, category group, category, status, age), search in Chinese
and in Latin letters, sorting, pages, the keyboard, and both languages.

Counts here only use what no other test changes: districts, categories, text, creation times,
and the status of Beilin's cases (no test acts in Beilin).
"""

import pytest

from conftest import BEILIN


def shown(page) -> list[str]:
    """The report keys of the rows on the page, in order."""
    hrefs = page.locator("table.cases tbody tr td:first-child a").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))")
    return [h.rsplit("/", 1)[-1] for h in hrefs]


def keys(console, page) -> list[str]:
    return [console.key_of(i) for i in shown(page)]


def swapped(page, change) -> None:
    """Runs `change` (which makes htmx fetch new results) and waits until the results were
    swapped in: htmx replaces #results, so the marked old element disappears."""
    page.locator("#results").evaluate("el => el.setAttribute('data-old', '')")
    with page.expect_response(lambda r: "/console/cases" in r.url
                              and r.request.headers.get("hx-request") == "true") as answer:
        change()
    assert answer.value.status == 200
    page.wait_for_selector("#results:not([data-old])")


def test_filters_by_district_category_group_status_and_age(console, signin):
    s = signin("admin", "zh")
    p = s.page
    p.goto(f"{console.url}/console/cases")
    assert sorted(keys(console, p)) == sorted(console.ids)
    assert p.locator("p.count").inner_text().startswith("10 条结果")
    swapped(p, lambda: p.select_option("#district", BEILIN))
    assert sorted(keys(console, p)) == ["b_closed", "b_light", "b_seal"]
    assert f"district={BEILIN}" in p.url  # the address bar keeps the filter (hx-push-url)
    swapped(p, lambda: p.select_option("#status", "open"))
    assert keys(console, p) == ["b_light"]
    swapped(p, lambda: p.select_option("#status", "closed"))
    assert keys(console, p) == ["b_closed"]
    swapped(p, lambda: p.select_option("#status", ""))
    swapped(p, lambda: p.select_option("#category", "food.seal"))
    assert keys(console, p) == ["b_seal"]
    # Without JavaScript the form is a plain GET: the same filters as an address.
    p.goto(f"{console.url}/console/cases?group=station")
    assert sorted(keys(console, p)) == ["b_closed", "y_charger"]
    # Age: opened at least 40 days before the server's today (1 December): the October ones.
    p.goto(f"{console.url}/console/cases?min_age=40")
    assert sorted(keys(console, p)) == ["b_seal", "y_hygiene", "y_seal", "y_seal2"]
    p.goto(f"{console.url}/console/cases?after=2026-11-01")
    assert len(shown(p)) == 6


def test_a_bad_filter_value_is_a_clear_error(console, signin):
    s = signin("admin", "en")
    answer = s.page.goto(f"{console.url}/console/cases?status=lost")
    assert answer.status == 400
    assert "status" in s.page.locator("main").inner_text()


@pytest.mark.parametrize("account, q, expected", [
    ("admin", "封签", ["b_seal", "y_seal"]),  # in two descriptions
    ("sup-yanta", "封签", ["y_seal"]),  # Beilin's is not this account's
    ("admin", "外卖", ["b_seal", "y_gate", "y_hygiene", "y_noodles", "y_seal"]),
    ("admin", "老孙家", ["y_seal"]),  # a merchant
    ("admin", "东关正街", ["b_seal"]),  # an address
    ("admin", "lao WANG", ["y_noodles"]),  # Latin letters: any case
    ("admin", "没有这样的", []),
])
def test_search_finds_chinese_substrings_in_merchant_address_description(
        console, signin, account, q, expected):
    s = signin(account, "zh")
    s.page.goto(f"{console.url}/console/cases")
    swapped(s.page, lambda: s.page.fill("#q", q))  # htmx searches as one types
    assert sorted(keys(console, s.page)) == expected
    if not expected:
        assert s.page.locator("p.empty").is_visible()


def test_sorting_by_a_column_header_and_back(console, signin):
    s = signin("admin", "en")
    p = s.page
    p.goto(f"{console.url}/console/cases")
    times = lambda: p.locator("table.cases tbody time").evaluate_all(  # noqa: E731
        "ts => ts.map(t => t.getAttribute('datetime'))")
    header = lambda name: p.locator("table.cases thead th", has_text=name)  # noqa: E731
    # Newest first by default.
    assert times() == sorted(times(), reverse=True)
    assert header("Opened").get_attribute("aria-sort") == "descending"
    swapped(p, lambda: header("Opened").locator("a").click())
    assert times() == sorted(times())
    assert header("Opened").get_attribute("aria-sort") == "ascending"
    swapped(p, lambda: header("District").locator("a").click())
    assert header("District").get_attribute("aria-sort") == "ascending"
    assert header("Opened").get_attribute("aria-sort") == "none"
    districts = p.locator("table.cases tbody tr td:nth-child(4)").all_inner_texts()
    assert districts == ["Beilin"] * 3 + ["Yanta"] * 7  # by code: 610103 before 610113
    assert "sort=district" in p.url


def test_pages_of_four(console, signin):
    s = signin("admin", "zh")
    p = s.page
    p.goto(f"{console.url}/console/cases?size=4")
    seen = []
    for expected_rows in (4, 4, 2):
        rows = shown(p)
        assert len(rows) == expected_rows
        seen += rows
        nxt = p.locator("nav.pager a[rel=next]")
        if expected_rows == 4:
            swapped(p, nxt.click)
        else:
            assert nxt.count() == 0
    assert sorted(seen) == sorted(console.ids.values())
    assert "page=3" in p.url
    swapped(p, p.locator("nav.pager a[rel=prev]").click)
    assert len(shown(p)) == 4


def test_the_keyboard_reaches_the_search_and_enter_submits(console, signin):
    s = signin("sup-yanta", "zh")
    p = s.page
    p.goto(f"{console.url}/console/cases")
    for _ in range(40):
        p.keyboard.press("Tab")
        if p.evaluate("document.activeElement.id") == "q":
            break
    else:
        pytest.fail("40 presses of Tab never reached the search field")
    # The first Tab lands on the skip link, which must be visible when focused.
    p.keyboard.type("井盖")
    with p.expect_response(lambda r: "q=" in r.url):
        p.keyboard.press("Enter")
    p.wait_for_function("() => document.querySelectorAll('table.cases tbody tr').length === 1")
    assert keys(console, p) == ["y_manhole"]


def test_the_skip_link_is_the_first_stop_and_moves_to_the_main_content(console, signin):
    s = signin("sup-yanta", "en")
    p = s.page
    p.goto(f"{console.url}/console/cases")
    p.keyboard.press("Tab")
    focused = p.evaluate("[document.activeElement.className, document.activeElement.innerText]")
    assert focused[0] == "skip"
    p.keyboard.press("Enter")
    assert p.evaluate("document.activeElement.id") == "main"


@pytest.mark.parametrize("lang, heading, district, status", [
    ("zh", "案件", "碑林区", "待受理"),
    ("en", "Cases", "Beilin", "Open"),
])
def test_the_browsers_language_chooses_the_pages_language(console, signin, lang, heading,
                                                          district, status):
    s = signin("grid-beilin", lang)
    p = s.page
    p.goto(f"{console.url}/console/cases?status=open")
    assert p.locator("h1").inner_text() == heading
    assert p.locator("html").get_attribute("lang") == {"zh": "zh-CN", "en": "en"}[lang]
    (row,) = p.locator("table.cases tbody tr").all()
    cells = row.locator("td").all_inner_texts()
    assert cells[1] == status and cells[3] == district
    # Report text is shown as the rider wrote it, in either language.
    assert "信号灯不亮" in cells[5]


def test_the_language_switch_is_remembered_across_pages(console, signin):
    s = signin("grid-beilin", "zh")
    p = s.page
    p.goto(f"{console.url}/console/cases")
    assert p.locator("h1").inner_text() == "案件"
    with p.expect_navigation():
        p.get_by_role("link", name="English").click()
    assert p.locator("h1").inner_text() == "Cases"
    # The browser still asks for Chinese first; the choice holds on the next page.
    p.goto(f"{console.url}/console/figures")
    assert p.locator("html").get_attribute("lang") == "en"
    with p.expect_navigation():
        p.get_by_role("link", name="中文").click()
    assert p.locator("html").get_attribute("lang") == "zh-CN"
