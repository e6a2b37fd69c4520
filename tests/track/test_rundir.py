from concurrent.futures import ThreadPoolExecutor

from deepscope.track.rundir import RunDir


def test_runs_started_in_the_same_second_get_distinct_folders(tmp_path, monkeypatch):
    monkeypatch.setattr("deepscope.track.rundir.time.strftime", lambda _: "20260101-000000")
    with ThreadPoolExecutor(8) as pool:
        paths = list(pool.map(lambda _: RunDir.create(tmp_path / "runs", "job").path, range(16)))
    assert len(set(paths)) == 16
    assert sorted(p.name for p in paths)[:2] == ["job-20260101-000000", "job-20260101-000000-10"]
    assert all(p.is_dir() and not any(p.iterdir()) for p in paths)
