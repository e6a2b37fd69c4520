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
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
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


def run_ui(deepscope_in_process, *args: str) -> tuple[int, str]:
    result = deepscope_in_process(*args)
    return result.returncode, result.stderr
