"""Signing in with a token, the session cookie, a wrong token, a rider, and signing out."""

import pytest


def session_cookie(context):
    return [c for c in context.cookies() if c["name"] == "console_session"]


def test_sign_in_exchanges_the_token_for_an_httponly_secure_strict_cookie(console, signin):
    s = signin("sup-yanta", "zh", fresh=True)
    assert s.page.url == f"{console.url}/console/cases"
    assert s.page.locator("h1").inner_text() == "案件"
    (cookie,) = session_cookie(s.context)
    # Chromium keeps a Secure cookie set by http://127.0.0.1 (a loopback origin is a secure
    # context), so the flags are checked on plain HTTP; production is behind TLS.
    assert (cookie["httpOnly"], cookie["secure"], cookie["sameSite"], cookie["path"]) == (
        True, True, "Strict", "/console")
    assert cookie["expires"] > 0, "the session cookie must expire"
    assert console.tokens["sup-yanta"] not in cookie["value"]
    # The token is not kept anywhere a script could read.
    assert "console_session" not in s.page.evaluate("document.cookie")
    assert console.tokens["sup-yanta"] not in s.page.content()
    # Signed in, the sign-in page sends the account on to its cases.
    s.page.goto(f"{console.url}/console/login")
    assert s.page.url == f"{console.url}/console/cases"


@pytest.mark.parametrize("lang, says", [("zh", "没有这个令牌"), ("en", "unknown token")])
def test_a_wrong_token_is_refused_with_an_error_naming_it(console, signin, lang, says):
    s = signin(None, lang)
    s.page.goto(f"{console.url}/console/login")
    s.page.fill("#token", "wst_" + "0" * 43)
    with s.page.expect_response(lambda r: r.request.method == "POST") as answer:
        s.page.locator("form.login button[type=submit]").click()
    assert answer.value.status == 401
    alert = s.page.get_by_role("alert")
    assert says in alert.inner_text()
    assert s.page.locator("#token").get_attribute("aria-invalid") == "true"
    assert session_cookie(s.context) == []
    # Nothing behind the sign-in page opens without a session.
    s.page.goto(f"{console.url}/console/cases")
    assert s.page.url.startswith(f"{console.url}/console/login")


def test_a_rider_token_opens_no_console_and_says_why(console, signin):
    s = signin(None, "en")
    s.page.goto(f"{console.url}/console/login")
    s.page.fill("#token", console.tokens["rider-a"])
    with s.page.expect_response(lambda r: r.request.method == "POST") as answer:
        s.page.locator("form.login button[type=submit]").click()
    assert answer.value.status == 403
    assert "Rider accounts have no console" in s.page.get_by_role("alert").inner_text()
    assert session_cookie(s.context) == []


def test_logout_deletes_the_session_on_the_server(console, signin, browser):
    s = signin("grid-yanta", "en", fresh=True)
    (cookie,) = session_cookie(s.context)
    s.page.get_by_role("button", name="Sign out").click()
    s.page.wait_for_load_state()
    assert s.page.url.startswith(f"{console.url}/console/login")
    assert session_cookie(s.context) == []
    s.page.goto(f"{console.url}/console/cases")
    assert s.page.url.startswith(f"{console.url}/console/login")
    # The old cookie, kept by someone (a shared computer), opens nothing any more: the
    # session is gone from the server, not only from this browser.
    other = browser.new_context()
    try:
        other.add_cookies([{k: cookie[k] for k in ("name", "value", "domain", "path", "secure",
                                                   "httpOnly", "sameSite")}])
        answer = other.request.get(f"{console.url}/console/cases", max_redirects=0)
        assert answer.status in (302, 303, 307), answer.status
        assert answer.headers["location"].startswith("/console/login")
    finally:
        other.close()
