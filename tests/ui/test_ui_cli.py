"""`deepscope ui`: its defaults, and the mistakes it names before starting a server."""

from __future__ import annotations

import socket

import pytest


@pytest.fixture
def served(monkeypatch) -> list[dict]:
    """What uvicorn.run would have been asked to serve (no server is started)."""
    import uvicorn

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: calls.append({"app": app, **options}))
    return calls


def test_serves_the_root_on_127_0_0_1_port_8000_by_default(runs_root, served, deepscope_in_process, monkeypatch):
    from deepscope.ui import server as serving

    monkeypatch.setattr(serving, "check_port_free", lambda host, port: None)  # 8000 may be busy here
    monkeypatch.chdir(runs_root.parent)  # --root defaults to ./runs
    code, err = run_ui(deepscope_in_process, "ui")
    assert code == 0, err
    assert served[0]["host"] == "127.0.0.1" and served[0]["port"] == 8000
    assert "http://127.0.0.1:8000" in err
    assert (runs_root / "runs.sqlite").exists()  # the store was built from the run folders


def test_host_and_port_are_passed_on(runs_root, served, deepscope_in_process, monkeypatch):
    port = free_port()
    code, err = run_ui(deepscope_in_process, "ui", "--root", str(runs_root), "--host", "localhost", "--port", str(port))
    assert code == 0, err
    assert served[0]["host"] == "localhost" and served[0]["port"] == port
    assert served[0]["app"].state.source.root == runs_root


def test_a_missing_root_is_a_clear_error(tmp_path, served, deepscope_in_process, monkeypatch):
    code, err = run_ui(deepscope_in_process, "ui", "--root", str(tmp_path / "nowhere"))
    assert code == 2 and "nowhere is not a folder" in err and "--root" in err
    assert served == []


def test_a_port_in_use_is_a_clear_error(runs_root, served, deepscope_in_process, monkeypatch):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, err = run_ui(deepscope_in_process, "ui", "--root", str(runs_root), "--port", str(port))
    assert code == 2 and f"127.0.0.1:{port}" in err and "--port" in err
    assert served == []


def test_on_any_host_only_its_own_names_and_the_allowed_ones_are_answered(runs_root, served, deepscope_in_process):
    from fastapi.testclient import TestClient

    port = free_port()
    code, err = run_ui(deepscope_in_process, "ui", "--root", str(runs_root), "--host", "0.0.0.0", "--port", str(port),
                       "--allow-host", "mybox.local", "--allow-host", "Team.Example")
    assert code == 0, err
    assert "anyone who can reach this machine" in err and "mybox.local" in err and "team.example" in err
    client = TestClient(served[0]["app"])
    for host, status in [(f"mybox.local:{port}", 200), ("team.example", 200), (f"192.168.1.5:{port}", 200),
                         ("localhost", 200), ("evil.example", 400), (f"mybox.local.evil.example:{port}", 400)]:
        assert client.get("/api/runs", headers={"host": host}).status_code == status, host


def test_an_allow_host_that_is_not_a_name_is_a_clear_error(runs_root, served, deepscope_in_process):
    code, err = run_ui(deepscope_in_process, "ui", "--root", str(runs_root), "--allow-host", "http://mybox:8000/")
    assert code == 2 and "--allow-host 'http://mybox:8000/'" in err and "e.g. --allow-host mybox.local" in err
    assert "Traceback" not in err and served == []


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_ui(deepscope_in_process, *args: str) -> tuple[int, str]:
    result = deepscope_in_process(*args)
    return result.returncode, result.stderr
