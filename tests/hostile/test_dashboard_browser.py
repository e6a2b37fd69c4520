"""In headless Chromium: a report.html planted in a run folder, whose script tries to read /api/runs and to POST
/api/reindex (by fetch and by form), achieves neither, whether the dashboard frames it (/runs/NAME) or it is
opened in a tab of its own (/runs/NAME/report.html).

"Neither" is checked on both sides: the server (a recording wrapper around the app) saw no request to /api/ at
all, and the page saw no data (another run's name and metric value, which only /api/runs holds, are nowhere in
its DOM). A control serves the same HTML from the dashboard's origin without protection and sees the script reach
the API, so the probe itself is known to work. One browser for the whole file.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ui.conftest import serving, write_run

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is missing (Debian: apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is missing (pip install playwright)")

TARGET, OTHER = "target-20261201-100000", "other-zq7x-20261201-110000"
MARKER = "0.613579"  # OTHER's test accuracy: in /api/runs, and nowhere a planted report could see it but there
UNTOUCHED = "the script did not run"
SETTLE_MS = 1500  # longer than the planted refresh (1 s) and delayed form submit (0.3 s) take to fire
PLANTED = f"""<!DOCTYPE html><html><head><title>planted report</title>
<meta http-equiv="refresh" content="1;url=/api/runs?by=refresh">
<link rel="stylesheet" href="/api/runs?by=stylesheet"></head><body>
<p id="out">{UNTOUCHED}</p>
<img src="/api/runs?by=img" alt="">
<form id="click" method="post" action="/api/reindex"><input name="a" value="b"><button id="go">go</button></form>
<form id="plain" method="post" action="/api/reindex" enctype="text/plain"><input name='{{"a":"' value='"}}'></form>
<script>
const out = document.getElementById("out");
out.textContent = "the script ran";
fetch("/api/runs?by=fetch").then(r => r.text())
  .then(text => {{ out.textContent = text; document.title = text.slice(0, 300); console.log("planted saw " + text); }},
        error => {{ out.textContent = "fetch failed: " + error; }});
fetch("/api/reindex", {{method: "POST", headers: {{"Content-Type": "application/json"}}, body: "{{}}"}})
  .then(r => r.text()).then(text => out.append(" reindex: " + text), () => {{}});
setTimeout(() => document.getElementById("plain").submit(), 300);
</script></body></html>"""


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory):
    """The dashboard over a planted run and another, behind a wrapper that records every request; (url, seen)."""
    from deepscope.ui import create_app

    root = tmp_path_factory.mktemp("planted") / "runs"
    (write_run(root, TARGET) / "report.html").write_text(PLANTED)
    write_run(root, OTHER, accuracy=float(MARKER))
    app, seen = create_app(root), []

    async def recording(scope, receive, send):
        if scope["type"] == "http":
            seen.append(f"{scope['method']} {scope['path']}?{scope['query_string'].decode()}")
        await app(scope, receive, send)

    with serving(recording) as url:
        yield url, seen


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser, dashboard):
    _, seen = dashboard
    seen.clear()
    context = browser.new_context()
    page = context.new_page()
    page.console_lines = []
    page.on("console", lambda message: page.console_lines.append(message.text))
    yield page
    context.close()


def test_framed_in_the_run_page_the_planted_report_reaches_nothing(page, dashboard):
    url, seen = dashboard
    page.goto(f"{url}/runs/{TARGET}")
    frame = page.frame_locator("iframe.report")
    sync_api.expect(frame.locator("#out")).to_have_text(UNTOUCHED)  # it rendered, its script never ran
    page.wait_for_timeout(SETTLE_MS)
    frame.locator("#go").click()  # even a reader's own click does not submit its form
    page.wait_for_timeout(300)

    report = next(f for f in page.frames if f.url.endswith(f"/runs/{TARGET}/report.html"))
    assert_saw_nothing(report.inner_text("#out"), report.content(), report.title(), page.console_lines, seen)


def test_opened_in_a_tab_of_its_own_the_planted_report_reaches_nothing(page, dashboard):
    url, seen = dashboard
    page.goto(f"{url}/runs/{TARGET}/report.html")
    sync_api.expect(page.locator("#out")).to_have_text(UNTOUCHED)
    page.wait_for_timeout(SETTLE_MS)
    page.click("#go")
    page.wait_for_timeout(300)

    assert page.url == f"{url}/runs/{TARGET}/report.html"  # neither the refresh nor a form took it elsewhere
    assert_saw_nothing(page.inner_text("#out"), page.content(), page.title(), page.console_lines, seen)


def test_control_the_same_html_unprotected_in_the_dashboards_origin_does_reach_the_api(page, dashboard):
    """Without the sandbox the probe works: the server sees its requests and the page gets the other run's data.
    (The form posts are still refused there, by the JSON content-type rule, but they are sent.)"""
    url, seen = dashboard
    page.route(f"{url}/unprotected", lambda route: route.fulfill(status=200, content_type="text/html",
                                                                   body=PLANTED))
    with page.expect_console_message(lambda message: message.text.startswith("planted saw ")) as said:
        page.goto(f"{url}/unprotected")
    assert OTHER in said.value.text and MARKER in said.value.text  # what the planted script read
    page.wait_for_url(f"{url}/api/reindex")  # its delayed form post went out (and was refused: not JSON)
    assert "GET /api/runs?by=fetch" in seen and seen.count("POST /api/reindex?") == 2  # by fetch, by form


def assert_saw_nothing(out: str, dom: str, title: str, console: list[str], seen: list[str]) -> None:
    reached = [request for request in seen if request.startswith(("GET /api/", "POST "))]
    assert reached == [], f"the planted report reached the server: {reached}"
    assert out == UNTOUCHED and title == "planted report"  # its script never ran
    assert OTHER not in dom and MARKER not in dom and not any(OTHER in line for line in console)
    # what stopped it is the sandbox and the policy, not an accident of timing
    assert any("Blocked script execution" in line and "sandboxed" in line for line in console), console
    assert any("Blocked form submission" in line for line in console), console
