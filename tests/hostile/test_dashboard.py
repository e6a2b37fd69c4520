"""The dashboard over HTTP, attacked: one table of planted cases driven through one harness (`answer`).

Each case plants something in a run root of two good runs (a hostile report.html, a link out of a run folder, a
damaged folder), starts the dashboard over it (`create_app`, as `deepscope ui` does; it must start), sends one
request, and asserts the exact status, the security headers every response carries, what the answer says and
what it must never hold (a secret kept beside the run root). The cases that could exhaust memory run in a forked
child under an address-space limit.
"""

from __future__ import annotations

import json
import os
import resource
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from deepscope.ui import create_app
from tests.ui.conftest import write_run

GOOD, OTHER, PLANTED = "good-20261201-100000", "other-20261201-110000", "planted-20261201-120000"
LATER = "later-20261201-130000"  # trained after the dashboard started: only a reindex (or a listing) records it
LOCAL = "http://127.0.0.1:8000"
SECRET = "TOP-SECRET-7f3a9c"  # in a file beside the run root: no answer may ever hold it
SCRIPT = "<script>fetch('/api/runs').then(r => r.text()).then(t => document.title = t)</script>"
JSON = {"content-type": "application/json"}
BOMB_MEMORY_MB = 1500  # more than a dashboard over a few runs needs; far less than an expanded bomb


@dataclass(frozen=True)
class Case:
    id: str
    url: str
    status: int
    method: str = "GET"
    plant: Callable[[Path], Any] = lambda root: None  # into the run root, before the dashboard starts
    headers: dict[str, str] = field(default_factory=dict)
    content: str | None = None  # the request body
    host: str = "127.0.0.1"  # the address the dashboard is served on (`deepscope ui --host`)
    allow: tuple[str, ...] = ()  # `--allow-host`
    policy: str = "dashboard"  # which security headers: the dashboard's own, or a run report's
    says: tuple[str, ...] = ()  # in the answer
    never: tuple[str, ...] = (SECRET,)  # nowhere in the answer
    check: Callable[[Any, Any], None] | None = None  # (response, app): what else must hold
    bounded: bool = False  # a memory bomb: run in a child process that may not map more than BOMB_MEMORY_MB


# ---- what the cases plant ----

def planted_run(root: Path) -> Path:
    return write_run(root, PLANTED)


def script_report(root: Path) -> None:
    (planted_run(root) / "report.html").write_text(f"<!DOCTYPE html><title>planted</title><p>hello</p>{SCRIPT}")


def report_linked_out(root: Path) -> None:
    (planted_run(root) / "report.html").symlink_to(root.parent / "secret.txt")


def report_linked_relative(root: Path) -> None:
    (planted_run(root) / "report.html").symlink_to(Path("..") / ".." / "secret.txt")


def config_linked_out(root: Path) -> None:
    run = planted_run(root)
    (run / "config.yaml").unlink()
    (run / "config.yaml").symlink_to(root.parent / "secret.txt")


def deep_metrics(root: Path) -> None:
    (planted_run(root) / "metrics.jsonl").write_text("[" * 3000 + "\n")


def safetensors_header(header: Any, body: bytes = b"") -> bytes:
    text = json.dumps(header).encode()
    return len(text).to_bytes(8, "little") + text + body


def weights_header_a_list(root: Path) -> None:
    (planted_run(root) / "model" / "weights.safetensors").write_bytes(safetensors_header([1, 2, 3]))


def weights_offsets_strings(root: Path) -> None:
    header = {"w": {"dtype": "F32", "shape": [1], "data_offsets": ["0", "4"]}}
    (planted_run(root) / "model" / "weights.safetensors").write_bytes(safetensors_header(header, b"\0" * 4))


def config_alias_bomb(root: Path) -> None:
    """A billion laughs: 9 levels of 9 aliases, 387 million strings once expanded, in 600 bytes."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 9)]
    (planted_run(root) / "config.yaml").write_text("\n".join(lines) + "\n")


DAMAGED = {  # how a folder is damaged -> the file its reason names
    "metrics-3000-brackets": (deep_metrics, "metrics.jsonl"),
    "weights-header-a-list": (weights_header_a_list, "weights.safetensors"),
    "weights-offsets-strings": (weights_offsets_strings, "weights.safetensors"),
    "config-alias-bomb": (config_alias_bomb, "config.yaml"),
}


# ---- what the cases check beyond status and headers ----

def not_reindexed(response, app) -> None:
    assert app.state.source.store.run(LATER) is None, "the refused request rebuilt the store"


def reindexed(response, app) -> None:  # the control: the same request from the dashboard's own page works
    assert response.json() == {"runs": 3} and app.state.source.store.run(LATER) is not None


def framed_sandboxed(response, app) -> None:
    html = response.text
    assert f'<iframe class="report" sandbox="" src="/runs/{PLANTED}/report.html"' in html
    assert "allow-same-origin" not in html and "allow-scripts" not in html
    assert "<script" not in html and "<p>hello</p>" not in html  # the report is not part of the page itself


def lists_the_others_and_the_damaged_one_incomplete(names_file: str) -> Callable[[Any, Any], None]:
    def check(response, app) -> None:
        rows = {row["name"]: row for row in response.json()["runs"]}
        assert set(rows) == {GOOD, OTHER, PLANTED, LATER}  # LATER: a listing records new folders
        assert rows[GOOD]["status"] == rows[OTHER]["status"] == "finished"
        assert rows[PLANTED]["status"] == "incomplete"
        assert any(names_file in problem for problem in rows[PLANTED]["problems"]), rows[PLANTED]["problems"]
    return check


def secret_not_in_params(response, app) -> None:
    assert SECRET not in json.dumps(response.json())


# ---- the table ----

CASES = [
    # 1. a report.html planted in a run folder cannot run script in the dashboard's origin
    Case("script-report-is-framed-sandboxed", f"/runs/{PLANTED}", 200, plant=script_report, check=framed_sandboxed),
    Case("script-report-served-with-a-sandbox-policy", f"/runs/{PLANTED}/report.html", 200, plant=script_report,
         policy="report", says=(SCRIPT,)),  # served as written: the policy, not the bytes, makes it harmless
    # 10. never follow a link out of the run folder
    Case("report-linked-out", f"/runs/{PLANTED}/report.html", 404, plant=report_linked_out, policy="report",
         says=("report.html is a link to a file outside the run folder", "does not follow it")),
    Case("report-linked-out-relative", f"/runs/{PLANTED}/report.html", 404, plant=report_linked_relative,
         policy="report", says=("outside the run folder",)),
    Case("report-linked-out-run-page", f"/runs/{PLANTED}", 200, plant=report_linked_out,
         says=("report.html is a link to a file outside the run folder", "finished"), never=(SECRET, "<iframe")),
    Case("config-linked-out-report", f"/runs/{PLANTED}/report.html", 200, plant=config_linked_out, policy="report"),
    Case("config-linked-out-api", f"/api/runs/{PLANTED}", 200, plant=config_linked_out, check=secret_not_in_params),
    # 10. the Host check is on whatever the --host (DNS rebinding)
    Case("foreign-host", "/api/runs", 400, headers={"host": "evil.example"}, says=("--allow-host",)),
    Case("foreign-host-on-0.0.0.0", "/api/runs", 400, headers={"host": "evil.example:8000"}, host="0.0.0.0",
         says=("evil.example",)),
    Case("foreign-host-like-an-allowed-one", "/api/runs", 400, headers={"host": "mybox.local.evil.example"},
         host="0.0.0.0", allow=("mybox.local",)),
    Case("foreign-host-post", "/api/reindex", 400, method="POST", headers={"host": "evil.example", **JSON},
         content="{}", check=not_reindexed),
    Case("allowed-host-on-0.0.0.0", "/api/runs", 200, headers={"host": "mybox.local:8000"}, host="0.0.0.0",
         allow=("mybox.local",)),
    # 10. cross-site posts to a route that changes something
    Case("reindex-form-post", "/api/reindex", 415, method="POST",
         headers={"content-type": "application/x-www-form-urlencoded"}, content="a=b", check=not_reindexed),
    Case("reindex-text-plain-post", "/api/reindex", 415, method="POST", headers={"content-type": "text/plain"},
         content='{"a": 1}', check=not_reindexed),
    Case("reindex-no-content-type", "/api/reindex", 415, method="POST", check=not_reindexed),
    Case("reindex-foreign-origin", "/api/reindex", 403, method="POST",
         headers={"origin": "http://evil.example", **JSON}, content="{}", check=not_reindexed),
    Case("reindex-sandboxed-origin", "/api/reindex", 403, method="POST", headers={"origin": "null", **JSON},
         content="{}", check=not_reindexed),
    Case("reindex-cross-site-fetch", "/api/reindex", 403, method="POST",
         headers={"sec-fetch-site": "cross-site", **JSON}, content="{}", check=not_reindexed),
    Case("reindex-same-origin-json", "/api/reindex", 200, method="POST", headers={"origin": LOCAL, **JSON},
         content="{}", check=reindexed),
    # 7. damaged run folders: the dashboard starts, lists the others, and says what is wrong with the damaged one
    *[Case(f"{damage}-listed", "/api/runs", 200, plant=plant, check=lists_the_others_and_the_damaged_one_incomplete(
        names_file), bounded=damage == "config-alias-bomb") for damage, (plant, names_file) in DAMAGED.items()],
    *[Case(f"{damage}-{route}", url, status, plant=plant, policy=policy, bounded=damage == "config-alias-bomb")
      for damage, (plant, _) in DAMAGED.items()
      for route, url, status, policy in [
          ("run-page", f"/runs/{PLANTED}", 200, "dashboard"),
          ("report", f"/runs/{PLANTED}/report.html", 200, "report"),
          ("run", f"/api/runs/{PLANTED}", 200, "dashboard"),
          ("metric-names", f"/api/runs/{PLANTED}/metrics", 200, "dashboard"),
          # the brackets are metrics.jsonl's only line: no val.loss was logged
          ("series", f"/api/runs/{PLANTED}/metrics/val.loss", 404 if damage == "metrics-3000-brackets" else 200,
           "dashboard")]],
    # path traversal: a run name is a name, never a path
    Case("traversal-run-page", "/runs/..%2F..%2Fsecret.txt", 404),
    Case("traversal-report", "/runs/..%2F..%2Fsecret.txt/report.html", 404),
    Case("dot-dot-report", "/runs/%2E%2E/report.html", 404, policy="report", says=("no run named '..'",)),
    Case("traversal-api", "/api/runs/..%2F..%2Fsecret.txt", 404),
    Case("traversal-metric", f"/api/runs/{GOOD}/metrics/..%2F..%2F..%2Fsecret.txt", 404),
    Case("traversal-static", "/static/..%2F..%2F..%2Fsecret.txt", 404),
    # huge and unknown values
    Case("huge-where", "/api/runs?where=" + "a" * 50_000, 414, says=("50,", "8,192")),
    Case("many-wheres", "/api/runs?" + "&".join(["where=a%3D1"] * 2000), 414),
    Case("huge-run-name", "/runs/" + "a" * 10_000, 414),
    Case("long-where-is-cut", "/api/runs?where=" + "b" * 5000, 400, never=(SECRET, "b" * 1200)),
    Case("huge-limit", "/api/runs?limit=" + "9" * 40, 200),
    Case("unknown-sort", "/api/runs?sort=no.such.metric", 400, says=("no.such.metric",)),
    Case("unknown-where", "/api/runs?where=no.such.metric%3E1", 400, says=("no.such.metric",)),
    Case("not-a-boolean", "/api/runs?descending=maybe", 422),
    Case("unknown-metric", f"/api/runs/{GOOD}/metrics/no.such.metric", 404, says=("no metric 'no.such.metric'",)),
    Case("huge-metric-name", f"/api/runs/{GOOD}/metrics/" + "m" * 5000, 404, never=(SECRET, "m" * 1200)),
    Case("unknown-run", "/api/runs/no-such-run", 404),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_a_planted_case_gets_its_exact_answer(case: Case, tmp_path: Path):
    if case.bounded:
        in_bounded_child(lambda: answer(case, tmp_path))
    else:
        answer(case, tmp_path)


def answer(case: Case, tmp_path: Path) -> None:
    """The harness: plant, start the dashboard, send the request, assert status, headers and content."""
    root = tmp_path / "runs"
    write_run(root, GOOD, accuracy=0.9)
    write_run(root, OTHER, accuracy=0.8, val_loss=[1.1, 0.7])
    (tmp_path / "secret.txt").write_text(f"api_key: {SECRET}\n")  # YAML: a reader that follows links parses it
    case.plant(root)
    app = create_app(root, host=case.host, allow_hosts=case.allow)  # it starts, whatever was planted
    write_run(root, LATER)
    client = TestClient(app, base_url=LOCAL, raise_server_exceptions=False)
    response = client.request(case.method, case.url, headers=case.headers, content=case.content)
    text = response.text
    assert response.status_code == case.status, f"{response.status_code}, expected {case.status}: {text[:500]}"
    assert_security_headers(response.headers, case.policy)
    assert "Traceback" not in text
    if response.status_code >= 400:
        assert len(text) < 2000, f"a {len(text)}-character error: {text[:300]}..."
    for expected in case.says:
        assert expected in text, f"{expected!r} is not in the answer: {text[:1000]}"
    for forbidden in case.never:
        assert forbidden not in text, f"{forbidden[:50]!r} is in the answer"
    if case.check:
        case.check(response, app)


def assert_security_headers(headers, policy: str) -> None:
    """What every response carries, written out here rather than read from the table under test."""
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    csp = [part.strip() for part in headers["content-security-policy"].split(";")]
    if policy == "report":  # a run's own HTML: no script, an opaque origin, only the dashboard may frame it
        assert csp[0] == "sandbox" and "default-src 'none'" in csp and "frame-ancestors 'self'" in csp
        assert not any(part.startswith("script-src") for part in csp)
        assert headers["x-frame-options"] == "SAMEORIGIN"
    else:  # the dashboard's pages and API: its own script only, never framed
        assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert not any("unsafe-inline" in part or "unsafe-eval" in part for part in csp if "script" in part)
        assert headers["x-frame-options"] == "DENY"


def in_bounded_child(run: Callable[[], None]) -> None:
    """Run `run` in a forked child that may map at most BOMB_MEMORY_MB more than this process has; fail with
    the child's traceback (a MemoryError there is a bomb that got through)."""
    reading, writing = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe
        os.close(reading)
        outcome = "ok"
        try:
            limit = _mapped_bytes() + BOMB_MEMORY_MB * 2**20
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
            run()
        except BaseException:  # noqa: BLE001 - everything goes back to the parent
            outcome = traceback.format_exc()[-3000:]
        os.write(writing, outcome.encode())
        os._exit(0)
    os.close(writing)
    with os.fdopen(reading, "rb") as pipe:
        outcome = pipe.read().decode()
    os.waitpid(child, 0)
    assert outcome == "ok", outcome or "the child died without a word"


def _mapped_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmSize in /proc/self/status")
