"""The dashboard end to end: a real uvicorn server, Debian's chromium driven by Playwright, run folders written by
hand. Loads the runs table, ticks two runs and checks the comparison chart that the page's own script draws.

The pages are served under the server's own strict Content-Security-Policy (no inline script or style, nothing
from elsewhere; `deepscope.ui.security`): the dashboard must work under it, and a violation is a console error,
which fails the test."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.ui.conftest import serving

CHROMIUM = Path("/usr/bin/chromium")
FAST, SLOW, BROKEN = "fast-20261130-100000", "slow-20261130-110000", "broken-20261130-120000"

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is missing (Debian: apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is missing (pip install playwright)")


@pytest.fixture
def server(runs_root):
    """The dashboard on a free 127.0.0.1 port, in a thread; its base URL."""
    from deepscope.ui import create_app

    with serving(create_app(runs_root)) as url:
        yield url


@pytest.fixture
def page(server):
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                             args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.problems = []  # script errors, and any request that would leave this server
        page.on("pageerror", lambda error: page.problems.append(f"script error: {error}"))
        page.on("console", lambda message: message.type == "error" and page.problems.append(message.text))

        def only_this_server(route):
            if route.request.url.startswith(server + "/"):
                route.continue_()
            else:
                page.problems.append(f"request outside the dashboard: {route.request.url}")
                route.abort()

        page.route("**/*", only_this_server)
        page.goto(server + "/")
        page.wait_for_selector(f'#runs-body tr[data-run="{FAST}"]')
        yield page
        browser.close()


def points_in(path_d: str) -> int:
    return len(re.findall(r"[ML]", path_d))


def test_the_table_shows_the_metric_columns_the_api_chose(page, server):
    listing = page.request.get(server + "/api/runs").json()
    metric_headers = page.eval_on_selector_all("#runs-head th.num", "cells => cells.map(c => c.dataset.key)")
    assert metric_headers == listing["columns"] == ["test.accuracy", "test.loss", "val.accuracy", "val.loss"]
    scripts = page.eval_on_selector_all("script", "tags => tags.map(t => [t.getAttribute('src'), t.textContent])")
    assert scripts == [["/static/dashboard.js", ""]]
    policy = page.request.get(server + "/").headers["content-security-policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy and "unsafe" not in policy
    assert page.eval_on_selector("header.top", "e => getComputedStyle(e).display") == "flex"  # the stylesheet loaded
    assert page.problems == []


def test_ticking_two_runs_draws_their_curves_overlaid(page):
    broken = page.locator(f'#runs-body tr[data-run="{BROKEN}"]')
    assert "incomplete" in broken.inner_text() and "cut short" in broken.inner_text()

    page.check(f'input.pick[data-run="{FAST}"]')
    page.check(f'input.pick[data-run="{SLOW}"]')
    page.wait_for_selector("#chart svg path.series >> nth=1")
    assert page.input_value("#metric") == "val.loss"
    paths = {p.get_attribute("data-run"): p for p in page.locator("#chart svg path.series").all()}
    assert set(paths) == {FAST, SLOW}
    assert points_in(paths[FAST].get_attribute("d")) == 4 and paths[FAST].get_attribute("data-points") == "4"
    assert points_in(paths[SLOW].get_attribute("d")) == 3
    assert paths[FAST].get_attribute("stroke") != paths[SLOW].get_attribute("stroke")
    legend = page.inner_text("#chart ul.legend")
    assert FAST in legend and SLOW in legend
    swatches = page.eval_on_selector_all("#chart ul.legend .swatch",
                                         "s => s.map(e => getComputedStyle(e).backgroundColor)")
    assert swatches == ["rgb(47, 95, 208)", "rgb(208, 84, 47)"]  # coloured under a policy refusing inline styles
    assert page.locator("#chart svg text", has_text="val.loss").count() == 1  # the y axis is labelled
    assert "optimizer.lr=0.01" in legend and "optimizer.lr=0.001" in legend  # what tells the runs apart
    assert "last 0.25, best 0.25" in legend and "last 0.9, best 0.9" in legend  # a loss is best at its lowest

    page.check("#logy")
    page.wait_for_selector("#chart svg[aria-label$='(log)']")
    assert page.locator("#chart svg path.series").count() == 2

    page.select_option("#metric", "val.accuracy")  # another metric redraws both curves
    page.wait_for_selector("#chart svg[aria-label^='val.accuracy']")
    assert page.locator("#chart svg path.series").count() == 2
    assert "best 0.875" in page.inner_text("#chart ul.legend")  # an accuracy is best at its highest: 1 - 0.25 / 2
    page.select_option("#metric", "lr")
    page.wait_for_selector("#chart svg[aria-label^='lr']")
    assert "last 0.01" in page.inner_text("#chart ul.legend") and "best" not in page.inner_text("#chart ul.legend")
    page.select_option("#metric", "val.accuracy")
    page.wait_for_selector("#chart svg[aria-label^='val.accuracy']")
    assert f"select={FAST}" in page.url and "metric=val.accuracy" in page.url  # the comparison can be linked
    assert page.problems == []


def test_the_table_sorts_by_a_clicked_column_and_filters_by_words(page):
    def order() -> list[str]:
        return page.eval_on_selector_all("#runs-body tr[data-run]", "rows => rows.map(r => r.dataset.run)")

    page.click("#runs-head th[data-key='test.accuracy']")  # a metric sorts best first, runs without it last
    assert order() == [FAST, SLOW, BROKEN]
    page.click("#runs-head th[data-key='test.accuracy']")
    assert order() == [SLOW, FAST, BROKEN]
    page.click("#runs-head th[data-key='test.loss']")  # best first is smallest first for a loss: 0.25, then 0.9
    assert order() == [FAST, SLOW, BROKEN]
    page.click("#runs-head th[data-key='test.loss']")
    assert order() == [SLOW, FAST, BROKEN]
    page.fill("#filter", "incomplete")
    # expect() rather than wait_for_function: a string predicate is eval'd in the page, which the policy refuses
    sync_api.expect(page.locator("#runs-body tr[data-run]")).to_have_count(1)
    assert order() == [BROKEN]
    page.fill("#filter", "test.accuracy>0.9")  # an expression is the store's filter, as in `runs list --where`
    sync_api.expect(page.locator("#runs-body tr[data-run]").first).to_have_attribute("data-run", FAST)
    assert order() == [FAST]
    page.fill("#filter", "no.such.metric>1")
    page.wait_for_selector("#error:not([hidden])")
    assert "no.such.metric" in page.inner_text("#error")
    page.problems = [p for p in page.problems if "400" not in p]  # the refused filter's response, shown above
    assert page.problems == []


def test_the_counter_counts_every_run_after_a_store_filter_and_settings_are_columns_on_demand(page):
    assert page.inner_text("#count") == "3 of 3 runs"
    page.fill("#filter", "test.accuracy>0.9")  # filtered by the store: the page gets one run, the root has three
    sync_api.expect(page.locator("#runs-body tr[data-run]")).to_have_count(1)
    sync_api.expect(page.locator("#count")).to_have_text("1 of 3 runs")
    page.fill("#filter", "")
    sync_api.expect(page.locator("#count")).to_have_text("3 of 3 runs")

    def settings_shown() -> list[str]:
        return page.eval_on_selector_all("#runs-head th[data-key^='param:']", "cells => cells.map(c => c.dataset.key)")

    assert settings_shown() == ["param:train.epochs", "param:train.optimizer.lr"]  # the settings that differ
    page.click("#columns summary")
    shared = page.locator("#column-list input[data-param='train.optimizer.name']")
    assert not shared.is_checked() and "the same in every run" in page.inner_text("#column-list")
    shared.check()  # a setting the runs share, on demand
    assert settings_shown() == ["param:train.epochs", "param:train.optimizer.lr", "param:train.optimizer.name"]
    page.uncheck("#column-list input[data-param='train.epochs']")
    assert settings_shown() == ["param:train.optimizer.lr", "param:train.optimizer.name"]
    assert page.problems == []


class TestDottedColumnNames:
    @pytest.fixture
    def runs_root(self, tmp_path, make_run):
        """Two runs whose output `pm2.5` differs in type: the column name must stay whole in the header."""
        root = tmp_path / "runs"
        for name, kind, lr in ((FAST, "number", 0.01), (SLOW, "category", 0.001)):
            run = make_run(root, name, lr=lr)
            config = (run / "config.yaml").read_text()
            (run / "config.yaml").write_text(config.replace("  source: digits\n",
                                                            f"  source: air.csv\n  outputs:\n    pm2.5:\n"
                                                            f"      type: {kind}\n"))
        return root

    def test_a_settings_header_keeps_a_dotted_column_name_whole(self, page):
        headers = page.eval_on_selector_all("#runs-head th[data-key^='param:']",
                                            "cells => cells.map(c => [c.dataset.key, c.textContent])")
        labels = {key: text.replace("\u200b", "") for key, text in headers}  # break opportunities taken out
        assert labels["param:data.outputs.pm2.5.type"].startswith("pm2.5.type")  # not "5.type"
        assert labels["param:train.optimizer.lr"].startswith("optimizer.lr")  # other keys: their last two parts
        assert page.evaluate("settingLabel('data.series.fill.pm2.5')") == "pm2.5"
        assert page.problems == []


def test_a_run_page_shows_its_report_framed_with_nothing_refused(page, server):
    """The drawn report (inline CSS, inline SVG curves) needs nothing its sandbox policy refuses: a refused
    style or image would be a console error."""
    page.goto(f"{server}/runs/{FAST}")
    report = page.frame_locator("iframe.report")
    sync_api.expect(report.locator("#training h2")).to_have_text("Training curves")
    assert report.locator("#training svg").count() >= 1
    assert report.locator(".ds-report").evaluate("e => getComputedStyle(e).maxWidth") == "1180px"  # its CSS applied
    assert page.problems == []
