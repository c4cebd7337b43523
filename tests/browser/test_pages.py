"""Every console page, in Chinese and English, on a desktop (1366×768) and a phone (390×844):
axe-core finds no WCAG 2.1 A/AA violation, the page does not scroll sideways, it raises no
script or CSP error and loads nothing that fails, and a screenshot of it goes to
target/console-screenshots/<page>-<lang>-<desktop|phone>.png."""

import pytest

from conftest import describe_violations, axe_violations

DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}

# page name -> (account signed in or None, path; {y_seal} is a seeded report's id).
PAGES = {
    "login": (None, "/console/login"),
    "cases": ("sup-yanta", "/console/cases"),
    "case": ("sup-yanta", "/console/cases/{y_seal}"),
    # A case whose mark-duplicate form lists a nearby report (y_seal) to pick.
    "duplicate": ("sup-yanta", "/console/cases/{y_seal2}"),
    "map": ("sup-yanta", "/console/map"),
    "figures": ("sup-yanta", "/console/figures"),
}


def settle(page, name: str) -> None:
    """Waits until the page's own scripts have drawn: the map loads its data with fetch after
    the page, the figures draw a chart beside each table."""
    if name == "map":
        page.wait_for_selector("#map[data-points] canvas")
    elif name == "figures":
        page.wait_for_function(
            "() => document.querySelectorAll('.chart canvas').length"
            " === document.querySelectorAll('.chart').length")
    page.wait_for_load_state("load")


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("name", list(PAGES))
def test_page_passes_axe_and_is_photographed(console, signin, screenshots_dir, name, lang):
    account, path = PAGES[name]
    s = signin(account, lang)
    url = console.url + path.format(**console.ids)
    failures = []
    for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        s.page.set_viewport_size(viewport)
        response = s.page.goto(url)
        assert response.status == 200, f"{name}: {response.status} at {url}"
        settle(s.page, name)
        assert s.page.locator("html").get_attribute("lang") == {"zh": "zh-CN", "en": "en"}[lang]
        # Nothing makes the page scroll sideways: wide tables scroll inside their own region.
        width = s.page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"{name} ({lang}, {size}) is {width} px wide"
        s.page.screenshot(path=str(screenshots_dir / f"{name}-{lang}-{size}.png"), full_page=True,
                          caret="initial")  # no injected <style>: the CSP would refuse it
        violations = axe_violations(s.page)
        if violations:
            failures.append(f"{name} ({lang}, {size}):\n{describe_violations(violations)}")
    assert not failures, "axe-core (WCAG 2.1 A/AA):\n" + "\n".join(failures)
    assert not s.errors, f"{name} ({lang}): errors in the page: {s.errors}"
