"""The dashboard's JSON API and pages, through FastAPI's TestClient on run folders written by hand."""

from __future__ import annotations

import re
import sys
import types

import pytest
from fastapi.testclient import TestClient

from deepscope.errors import UserError
from deepscope.ui import create_app
from deepscope.ui.security import HEADERS

LOCAL = "http://127.0.0.1:8000"  # the dashboard answers to loopback names only, unless told others


@pytest.fixture
def client(runs_root) -> TestClient:
    return TestClient(create_app(runs_root), base_url=LOCAL)


def names(response) -> list[str]:
    return [row["name"] for row in response.json()["runs"]]


def test_listing_holds_every_run_and_the_broken_one_as_incomplete_with_its_reasons(client):
    body = client.get("/api/runs").json()
    rows = {row["name"]: row for row in body["runs"]}
    assert body["count"] == 3
    assert set(rows) == {"fast-20261130-100000", "slow-20261130-110000", "broken-20261130-120000"}
    assert rows["fast-20261130-100000"]["status"] == "finished" and rows["fast-20261130-100000"]["problems"] == []
    assert rows["fast-20261130-100000"]["metrics"]["test.accuracy"] == pytest.approx(0.95)
    assert rows["slow-20261130-110000"]["params"]["train.optimizer.lr"] == pytest.approx(0.001)
    broken = rows["broken-20261130-120000"]
    assert broken["status"] == "incomplete"
    assert any("cut short" in reason for reason in broken["problems"])
    assert any("no trained model" in reason for reason in broken["problems"])


def test_a_filtered_listing_says_how_many_runs_the_root_holds(client):
    body = client.get("/api/runs", params={"where": "test.accuracy>0.9"}).json()
    assert (body["count"], body["total"]) == (1, 3)  # the page's "1 of 3 runs"
    assert client.get("/api/runs", params={"limit": 2}).json()["total"] == 3
    assert client.get("/api/runs").json()["total"] == 3


def test_listing_filters_sorts_and_limits_through_the_store(client):
    assert names(client.get("/api/runs", params={"where": "test.accuracy>0.9"})) == ["fast-20261130-100000"]
    assert names(client.get("/api/runs", params={"where": ["status=finished", "train.optimizer.lr<0.005"]})) == [
        "slow-20261130-110000"]
    ascending = client.get("/api/runs",
                           params={"sort": "test.accuracy", "descending": "false", "where": "status=finished"})
    assert names(ascending) == ["slow-20261130-110000", "fast-20261130-100000"]
    best = client.get("/api/runs", params={"sort": "test.accuracy", "limit": 1})
    assert names(best) == ["fast-20261130-100000"]
    assert client.get("/api/runs", params={"limit": 0}).status_code == 422


def test_a_filter_the_store_rejects_is_a_400_with_its_message(client):
    response = client.get("/api/runs", params={"where": "no.such.metric>1"})
    assert response.status_code == 400 and "no.such.metric" in response.json()["detail"]


def test_one_run_its_metric_names_and_a_series(client):
    run = client.get("/api/runs/fast-20261130-100000").json()
    assert run["name"] == "fast-20261130-100000" and run["status"] == "finished"
    assert {"val.loss", "train.loss", "val.accuracy"} <= set(run["metric_names"])
    assert {"val.loss", "lr"} <= set(client.get("/api/runs/fast-20261130-100000/metrics").json()["metrics"])
    series = client.get("/api/runs/fast-20261130-100000/metrics/val.loss").json()
    assert series["metric"] == "val.loss"
    assert [value for _, value in series["points"]] == pytest.approx([1.0, 0.5, 0.3, 0.25])
    assert [step for step, _ in series["points"]] == sorted(step for step, _ in series["points"])
    broken = client.get("/api/runs/broken-20261130-120000/metrics/val.loss").json()["points"]
    assert [value for _, value in broken] == pytest.approx([1.5, 1.4])  # what was written before the cut is kept
    for url in ("/api/runs/nope", "/api/runs/nope/metrics", "/api/runs/nope/metrics/val.loss"):
        assert client.get(url).status_code == 404


def test_a_diverged_run_with_nan_losses_is_served_as_json_nulls(runs_root, make_run):
    make_run(runs_root, "diverged-20261130-130000", val_loss=[1.0, float("nan"), float("inf")])
    client = TestClient(create_app(runs_root), base_url=LOCAL)
    points = client.get("/api/runs/diverged-20261130-130000/metrics/val.loss").json()["points"]
    assert [value for _, value in points] == [1.0, None, None]
    assert client.get("/api/runs").status_code == 200


def test_the_runs_page_loads_its_script_and_style_from_this_server_only(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert 'id="runs"' in html and 'id="chart"' in html
    assert '<script src="/static/dashboard.js"></script>' in html
    assert '<link rel="stylesheet" href="/static/dashboard.css">' in html
    # offline: nothing is fetched from anywhere but this server
    assert not re.search(r"https?://|//[a-z]|@import", html, re.I) and "url(" not in html
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/static/dashboard.js">']
    assert re.findall(r"<link[^>]*>", html) == ['<link rel="stylesheet" href="/static/dashboard.css">']


@pytest.mark.parametrize("url", ["/", "/runs/fast-20261130-100000", "/runs/broken-20261130-120000", "/runs/nope"])
def test_no_page_has_inline_script_or_style(client, monkeypatch, url):
    monkeypatch.setitem(sys.modules, "deepscope.report", None)  # the dashboard's own pages, whatever the report does
    html = client.get(url).text
    assert '<link rel="stylesheet" href="/static/dashboard.css">' in html
    # a strict Content-Security-Policy (script-src 'self') will refuse inline code: every <script> is empty
    assert all(body == "" for body in re.findall(r"<script[^>]*>(.*?)</script>", html, re.DOTALL))
    assert not re.search(r"<script(?![^>]*\bsrc=)", html) and "<style" not in html
    # no handlers in attributes
    assert not re.search(r"\son[a-z]+\s*=", html, re.IGNORECASE) and "javascript:" not in html


@pytest.mark.parametrize("name, media_type, fragment", [("dashboard.js", "text/javascript", "function chooseColumns"),
                                                        ("dashboard.css", "text/css", "table.runs")])
def test_the_script_and_stylesheet_are_served_with_their_content_types(client, name, media_type, fragment):
    response = client.get(f"/static/{name}")
    assert response.status_code == 200
    assert response.headers["content-type"] == f"{media_type}; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache" and response.headers["x-content-type-options"] == "nosniff"
    assert fragment in response.text
    assert not re.search(r"https?://|@import|url\(", response.text)  # they fetch nothing either


@pytest.mark.parametrize("url", ["/static/app.py", "/static/..%2Fapp.py", "/static/../app.py", "/static/",
                                 "/static/x.js"])
def test_only_the_dashboards_own_files_are_served_from_static(client, url):
    response = client.get(url)
    assert response.status_code == 404 and "import" not in response.text


def test_the_script_takes_columns_and_directions_from_the_api_and_guesses_neither(client):
    script = client.get("/static/dashboard.js").text
    assert "body.columns" in script and "body.directions" in script and "direction" in script
    assert not re.search(r"loss\|error|PREFERRED|endsWith\(\"\.n\"\)", script)  # the old name guesses are gone


def test_listing_says_which_way_each_metric_is_better(client):
    body = client.get("/api/runs").json()
    directions = body["directions"]
    assert directions["val.loss"] == "min" and directions["test.loss"] == "min" and directions["train.loss"] == "min"
    assert directions["test.accuracy"] == "max" and directions["val.accuracy"] == "max"
    assert directions["lr"] is None and directions["time"] is None  # not scores
    assert set(directions) == {key for row in body["runs"] for key in row["metrics"]}
    filtered = client.get("/api/runs", params={"where": "test.accuracy>0.9"}).json()
    assert set(filtered["directions"]) == set(filtered["runs"][0]["metrics"])


def test_listing_names_the_metric_columns_as_runs_list_does(client):
    from deepscope.track.columns import headline_columns

    body = client.get("/api/runs").json()
    assert body["columns"] == headline_columns(body["runs"])
    assert body["columns"] == ["test.accuracy", "test.loss", "val.accuracy", "val.loss"]
    assert client.get("/api/runs", params={"sort": "train.loss"}).json()["columns"][0] == "train.loss"
    assert client.get("/api/runs", params={"where": "status=nothing"}).json()["columns"] == []


def test_a_metric_series_says_which_way_is_better(client):
    run = "/api/runs/fast-20261130-100000/metrics/"
    assert client.get(run + "val.loss").json()["direction"] == "min"
    assert client.get(run + "val.accuracy").json()["direction"] == "max"
    assert client.get(run + "lr").json()["direction"] is None


def test_the_broken_runs_page_opens_and_says_why(client, monkeypatch):
    monkeypatch.setitem(sys.modules, "deepscope.report", None)  # the dashboard's own summary, whatever the report does
    page = client.get("/runs/broken-20261130-120000")
    assert page.status_code == 200
    assert "incomplete" in page.text and "cut short" in page.text and "no trained model" in page.text


def test_the_run_page_frames_the_report_sandboxed_and_the_report_comes_from_its_own_address(client, monkeypatch):
    seen = []

    def render_report(run_dir, **kwargs):
        seen.append((run_dir, kwargs))
        return '<html><body><div class="ds-report"><section id="summary">REPORT OF <b>fast</b></section></div>'

    monkeypatch.setitem(sys.modules, "deepscope.report", types.SimpleNamespace(render_report=render_report))
    page = client.get("/runs/fast-20261130-100000")
    assert page.status_code == 200 and "REPORT OF" not in page.text  # never part of the dashboard's page
    frames = re.findall(r"<iframe[^>]*>", page.text)
    assert frames == ['<iframe class="report" sandbox="" src="/runs/fast-20261130-100000/report.html" '
                      'title="report of fast-20261130-100000">']  # sandbox="": no script, no same origin
    report = client.get("/runs/fast-20261130-100000/report.html")
    assert report.status_code == 200 and "REPORT OF <b>fast</b>" in report.text
    assert report.headers["content-security-policy"] == HEADERS["report"]["Content-Security-Policy"]
    assert report.headers["content-security-policy"].startswith("sandbox;")
    assert seen[0][0].name == "fast-20261130-100000"
    assert seen[0][1] == {"load": False}  # no model loading or data preparation inside a request
    client.get("/runs/fast-20261130-100000/report.html")
    assert len(seen) == 1  # the report is kept while the run's files do not change


def test_the_report_address_serves_the_report_training_wrote(client, monkeypatch, runs_root):
    module = types.SimpleNamespace(render_report=lambda *a, **k: "DRAWN")
    monkeypatch.setitem(sys.modules, "deepscope.report", module)
    (runs_root / "fast-20261130-100000" / "report.html").write_text("<p>the whole report</p>")
    assert client.get("/runs/fast-20261130-100000/report.html").text == "<p>the whole report</p>"
    (runs_root / "fast-20261130-100000" / "report.html").write_text("<p>written again</p>")
    assert client.get("/runs/fast-20261130-100000/report.html").text == "<p>written again</p>"  # not the kept one


def test_a_failing_report_leaves_the_summary_and_the_error_not_a_500(client, monkeypatch):
    def render_report(run_dir, **kwargs):
        raise RuntimeError("the data of this run are gone")

    module = types.SimpleNamespace(render_report=render_report)
    monkeypatch.setitem(sys.modules, "deepscope.report", module)
    page = client.get("/runs/slow-20261130-110000")
    assert page.status_code == 200
    assert "RuntimeError: the data of this run are gone" in page.text
    assert "finished" in page.text and "train.optimizer.lr" in page.text  # the summary is still there
    framed = client.get("/runs/slow-20261130-110000/report.html")
    assert framed.status_code == 404 and "the data of this run are gone" in framed.json()["detail"]


def test_without_the_report_module_the_page_says_so(client, monkeypatch):
    monkeypatch.setitem(sys.modules, "deepscope.report", None)  # importing it raises ModuleNotFoundError
    page = client.get("/runs/fast-20261130-100000")
    assert page.status_code == 200 and "report is not available" in page.text


def test_the_real_report_of_the_broken_run_does_not_break_its_page(client):
    pytest.importorskip("deepscope.report", reason="the report package is not in this tree")
    page = client.get("/runs/broken-20261130-120000/report.html")  # what the run page frames
    assert page.status_code == 200 and "incomplete" in page.text and "cut short" in page.text
    assert client.get("/runs/broken-20261130-120000").status_code == 200


def test_an_unknown_run_is_a_404_page(client):
    page = client.get("/runs/no-such-run")
    assert page.status_code == 404 and "No run named no-such-run" in page.text


def test_runs_trained_since_the_start_appear_at_the_next_listing(client, runs_root, make_run):
    make_run(runs_root, "later-20261130-140000")
    assert "later-20261130-140000" in names(client.get("/api/runs"))
    make_run(runs_root, "latest-20261130-150000")
    assert client.get("/runs/latest-20261130-150000").status_code == 200  # a direct link finds it too
    assert client.post("/api/reindex", json={}).json()["runs"] == 5


def test_a_root_that_does_not_exist_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        create_app(tmp_path / "nowhere")


@pytest.mark.parametrize("served_on, allowed, answered, refused", [
    ("127.0.0.1", [], ["localhost:8000", "127.0.0.1", "[::1]:8000"], ["evil.example", "testserver", ""]),
    ("0.0.0.0", ["mybox.local"], ["MyBox.local:8000", "192.168.1.5:8000", "[fe80::1]:8000"],
     ["evil.example", "mybox.local.evil.example"]),
    ("10.1.2.3", [], ["10.1.2.3:8000", "localhost"], ["10.1.2.4", "evil.example"]),
])
def test_only_the_dashboards_own_host_names_are_answered_whatever_the_host(runs_root, served_on, allowed, answered,
                                                                           refused):
    client = TestClient(create_app(runs_root, host=served_on, allow_hosts=allowed))
    for host in answered:
        assert client.get("/api/runs", headers={"host": host}).status_code == 200, host
    for host in refused:
        response = client.get("/api/runs", headers={"host": host})
        assert response.status_code == 400 and "--allow-host" in response.json()["detail"], host


def test_an_allow_host_that_is_not_a_host_name_is_a_user_error(runs_root):
    for wrong in ("*", "http://mybox/", "my box"):
        with pytest.raises(UserError, match="--allow-host"):
            create_app(runs_root, allow_hosts=[wrong])


def test_even_a_bug_is_answered_with_the_security_headers_and_no_traceback(runs_root, monkeypatch):
    app = create_app(runs_root)
    monkeypatch.setattr(app.state.source, "runs", lambda **options: 1 / 0)
    response = TestClient(app, base_url=LOCAL, raise_server_exceptions=False).get("/api/runs")
    assert response.status_code == 500 and "a bug" in response.json()["detail"] and "Traceback" not in response.text
    for name, value in HEADERS["dashboard"].items():
        assert response.headers[name] == value
