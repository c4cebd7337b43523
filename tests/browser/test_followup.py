"""Follow-up actions on the case page, each by a role that may take it, seen in the timeline
and on the rider's phone after a sync; and the ones that must be refused: a button a role
does not get, a forged POST, a POST without the CSRF token or from another site, and the same
form sent twice.

The cases acted on here (y_hygiene, y_manhole, y_charger, y_gate, y_seal2) are counted by no
other test.
"""

import re

from conftest import SERVER_NOW


def case_url(console, key: str) -> str:
    return f"{console.url}/console/cases/{console.ids[key]}"


def action_form(page, action: str):
    return page.locator(f"form.action:has(input[name=action][value={action}])")


def act(page, action: str, **fields) -> None:
    """Fills and submits the action's form as a person would, and waits for the answer page."""
    form = action_form(page, action)
    for name, value in fields.items():
        form.locator(f"[name={name}]").fill(value)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()


def timeline(page) -> list[list[str]]:
    """The timeline's rows: [when, who, role, what]."""
    rows = page.locator("table.timeline tbody tr")
    return [[c.strip() for c in rows.nth(i).locator("td").all_inner_texts()]
            for i in range(rows.count())]


def rider_sees(console, rider: str, key: str) -> dict:
    out = console.device(rider, SERVER_NOW, [dict(op="sync"),
                                             dict(op="status", report=console.ids[key])])
    assert out[0]["complete"], out[0]
    return out[1]


def test_supervisor_acknowledges_then_dispatches_and_the_riders_phone_sees_both(console, signin):
    s = signin("sup-yanta", "zh")
    # From the list to the case, as a person would.
    s.page.goto(f"{console.url}/console/cases?q=回坊")
    s.page.locator("table.cases tbody tr a").first.click()
    s.page.wait_for_load_state()
    assert s.page.url == case_url(console, "y_hygiene")
    assert "待受理" in s.page.locator(".case-status").inner_text()
    assert timeline(s.page) == []

    act(s.page, "acknowledge", note="已联系商户，明日上门检查")
    assert s.page.get_by_role("status").inner_text() == "已保存，将同步到手机。"
    assert "已受理" in s.page.locator(".case-status").inner_text()
    ((when, who, role, what),) = timeline(s.page)
    assert (when, who, role) == ("2026-12-01 14:00", "sup-yanta", "监督员")
    assert what.startswith("受理") and "已联系商户，明日上门检查" in what

    act(s.page, "dispatch", grid_id="小寨路网格-03")
    assert "小寨路网格-03" in s.page.locator(".case-status").inner_text()
    assert [r[3] for r in timeline(s.page)][1:] == ["派发：小寨路网格-03"]

    phone = rider_sees(console, "rider-a", "y_hygiene")
    assert phone["status"] == "in_progress"
    assert [(e["kind"], e["actor"], e["role"], e["applied"]) for e in phone["events"]] == [
        ("acknowledge", "sup-yanta", "supervisor", True),
        ("dispatch", "sup-yanta", "supervisor", True),
    ]
    assert phone["events"][0]["note"] == "已联系商户，明日上门检查"


def test_grid_worker_notes_and_resolves_in_english_and_the_phone_follows(console, signin):
    s = signin("grid-yanta", "en")
    s.page.goto(case_url(console, "y_manhole"))
    assert s.page.locator("h1").inner_text() == "Case · Road hazard"
    # A grid worker dispatches nothing (it is the grid); it notes, resolves, rejects.
    assert action_form(s.page, "dispatch").count() == 0
    act(s.page, "note", note="Cover ordered from the water company")
    act(s.page, "resolve", note="New cover fitted")
    assert "Resolved" in s.page.locator(".case-status").inner_text()
    rows = timeline(s.page)
    assert [(r[1], r[2]) for r in rows] == [("grid-yanta", "Grid worker")] * 2
    # A closed case offers no second resolve.
    assert action_form(s.page, "resolve").count() == 0

    phone = rider_sees(console, "rider-a", "y_manhole")
    assert phone["status"] == "resolved"
    assert [e["kind"] for e in phone["events"]] == ["note", "resolve"]


def test_station_staff_resolve_a_station_case_but_not_a_food_one(console, signin):
    s = signin("station-yanta", "zh")
    s.page.goto(case_url(console, "y_charger"))
    act(s.page, "acknowledge")
    act(s.page, "resolve", note="已更换充电桩")
    assert "已办结" in s.page.locator(".case-status").inner_text()
    assert rider_sees(console, "rider-a", "y_charger")["status"] == "resolved"
    # A food case is the supervisors' and the grid's to close: no resolve, no reject button.
    s.page.goto(case_url(console, "y_seal"))
    assert action_form(s.page, "note").count() == 1
    assert action_form(s.page, "resolve").count() == 0
    assert action_form(s.page, "reject").count() == 0


def test_a_forged_post_for_an_action_the_role_may_not_take_is_refused(console, signin):
    s = signin("station-yanta", "en")
    s.page.goto(case_url(console, "y_gate"))
    assert action_form(s.page, "reject").count() == 0
    before = timeline(s.page)
    # The acknowledge form's hidden fields (a valid CSRF token and version), sent as a reject.
    form = action_form(s.page, "acknowledge")
    hidden = {n: form.locator(f"input[name={n}]").get_attribute("value")
              for n in ("csrf", "version")}
    for forged in ({"action": "reject", "reason": "not ours"}, {"action": "resolve"}):
        answer = s.context.request.post(f"{case_url(console, 'y_gate')}/events",
                                        form={**hidden, **forged},
                                        headers={"Origin": console.url}, max_redirects=0)
        assert answer.status == 403, (forged, answer.status, answer.text()[:300])
        assert "may not" in answer.text()
    s.page.reload()
    assert timeline(s.page) == before
    assert rider_sees(console, "rider-a", "y_gate")["events"] == []


def test_a_post_without_csrf_from_another_site_or_sent_twice_is_refused(console, signin):
    s = signin("sup-yanta", "en")
    url = case_url(console, "y_gate")
    s.page.goto(url)
    form = action_form(s.page, "note")
    good = {n: form.locator(f"input[name={n}]").get_attribute("value")
            for n in ("csrf", "version", "action")}
    good["note"] = "checked"
    post = s.context.request.post
    no_csrf = {k: v for k, v in good.items() if k != "csrf"}
    assert post(f"{url}/events", form=no_csrf, headers={"Origin": console.url},
                max_redirects=0).status == 403
    assert post(f"{url}/events", form={**good, "csrf": "x" * 43},
                headers={"Origin": console.url}, max_redirects=0).status == 403
    assert post(f"{url}/events", form=good, headers={"Origin": "http://evil.example"},
                max_redirects=0).status == 403

    # A real cross-site form in the browser: another site's page posts to the console. The
    # SameSite=Strict cookie stays home, so the post arrives without a session.
    evil = "http://evil.example/"
    s.page.route(evil, lambda route: route.fulfill(content_type="text/html", body=(
        f"<form id=f method=post action='{url}/events'>"
        + "".join(f"<input name={k} value='{v}'>" for k, v in good.items())
        + "</form>")))
    s.page.goto(evil)
    with s.page.expect_navigation():
        s.page.evaluate("document.getElementById('f').submit()")
    assert not s.page.url.startswith(url)
    s.page.goto(url)
    assert timeline(s.page) == []

    # The form itself, then the same form again (a double click, a resent page): one note.
    act(s.page, "note", note="checked")
    assert len(timeline(s.page)) == 1
    again = post(f"{url}/events", form=good, headers={"Origin": console.url}, max_redirects=0)
    assert again.status == 409, again.status
    s.page.reload()
    assert len(timeline(s.page)) == 1


def test_an_administrator_reads_every_case_but_writes_none(console, signin):
    s = signin("admin", "en")
    s.page.goto(case_url(console, "b_light"))
    assert s.page.locator("form.action").count() == 0
    assert s.page.locator("#actions-h + p").inner_text() != ""


def test_supervisor_marks_a_duplicate_from_the_nearby_reports_then_reopens_it(console, signin):
    """y_seal2 is y_seal's problem again, 78 m away and the same morning: the form offers
    y_seal to pick. A report of another district typed by hand is refused in Chinese, as if it
    did not exist. Marked, the case closes as a duplicate on the rider's phone; reopened with a
    reason it is open again, and a request for information moves it on."""
    s = signin("sup-yanta", "zh")
    url = case_url(console, "y_seal2")
    s.page.goto(url)
    form = action_form(s.page, "mark_duplicate")
    choices = form.locator("ul.candidates li")
    assert choices.count() == 1
    assert choices.first.locator("input[type=radio]").get_attribute("value") == console.ids["y_seal"]
    label = choices.first.locator("label").inner_text()
    metres = int(re.match(r"(\d+) 米", label).group(1))
    assert 70 <= metres <= 90, label
    assert "老孙家泡馍" in label
    # The radio button is named by its label (a screen reader reads the distance and the shop).
    assert form.get_by_label(label).count() == 1

    # Beilin's seal report, typed by hand: not this account's to see, so "no such report".
    form.locator("[name=of_id]").fill(console.ids["b_seal"])
    with s.page.expect_navigation():
        form.locator("button[type=submit]").click()
    assert "没有这个报告，或此账号无权查看" in s.page.locator("main").inner_text()
    s.page.goto(url)
    assert timeline(s.page) == []

    action_form(s.page, "mark_duplicate").locator("ul.candidates input[type=radio]").first.check()
    act(s.page, "mark_duplicate", note="同一家店，同一问题")
    status = s.page.locator(".case-status").inner_text()
    assert "重复" in status and console.ids["y_seal"] in status
    assert timeline(s.page)[-1][3].startswith(f"标记重复：{console.ids['y_seal']}")
    phone = rider_sees(console, "rider-a", "y_seal2")
    assert (phone["status"], phone["duplicate_of"]) == ("duplicate", console.ids["y_seal"])

    # Closed as a duplicate: reopen, with the reason required by the form.
    assert action_form(s.page, "mark_duplicate").count() == 0
    assert action_form(s.page, "reopen").locator("textarea[name=note]").get_attribute(
        "required") is not None
    act(s.page, "reopen", note="核实后不是同一家店")
    assert "待受理" in s.page.locator(".case-status").inner_text()
    act(s.page, "request_info", note="请补充商户名称")
    assert "处理中" in s.page.locator(".case-status").inner_text()

    phone = rider_sees(console, "rider-a", "y_seal2")
    assert phone["status"] == "in_progress" and phone["duplicate_of"] is None
    assert [(e["kind"], e["note"], e["applied"]) for e in phone["events"]] == [
        ("mark_duplicate", "同一家店，同一问题", True),
        ("reopen", "核实后不是同一家店", True),
        ("request_info", "请补充商户名称", True),
    ]
