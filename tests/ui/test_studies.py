"""The dashboard's study pages: a study journal written with Optuna directly (no training), read back as JSON and
HTML: trials with their state and value, the best so far, parameter importance, and a hostile root."""

from __future__ import annotations

import math

import pytest
from fastapi.testclient import TestClient

from deepscope.ui import create_app

optuna = pytest.importorskip("optuna")
LOCAL = "http://127.0.0.1:8000"


def write_study(root, name="search", values=(0.9, 0.5, 0.7, 0.3, 0.6)):
    """A study of lr and dropout: complete trials with `values`, then one pruned and one failed."""
    root.mkdir(parents=True, exist_ok=True)
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(
        str(root / f"{name}.optuna.journal")))
    study = optuna.create_study(study_name=name, storage=storage, direction="minimize")
    study.set_user_attr("metric", "val.loss")
    lr = optuna.distributions.FloatDistribution(1e-4, 1e-1, log=True)
    dropout = optuna.distributions.CategoricalDistribution([0.1, 0.3, 0.5])
    for number, value in enumerate(values):
        study.add_trial(optuna.trial.create_trial(
            params={"train.optimizer.lr": 10.0 ** -(1 + number % 3),
                    "model.encoder.dropout": [0.1, 0.3, 0.5][number % 3]},
            distributions={"train.optimizer.lr": lr, "model.encoder.dropout": dropout}, value=value,
            user_attrs={"run": f"{name}-trial{number:03d}-20261202-010000"}))
    study.add_trial(optuna.trial.create_trial(
        params={"train.optimizer.lr": 1e-4, "model.encoder.dropout": 0.5}, state=optuna.trial.TrialState.PRUNED,
        distributions={"train.optimizer.lr": lr, "model.encoder.dropout": dropout}, intermediate_values={1: 2.3},
        user_attrs={"run": f"{name}-trial{len(values):03d}-20261202-010000", "pruned_epoch": 1, "value": 2.3}))
    study.add_trial(optuna.trial.create_trial(state=optuna.trial.TrialState.FAIL,
                                              user_attrs={"error": "training stopped: the loss is NaN <b>"}))
    return study


@pytest.fixture
def client(runs_root) -> TestClient:
    write_study(runs_root)
    return TestClient(create_app(runs_root), base_url=LOCAL)


def test_the_study_as_json_trials_best_so_far_and_importance(client):
    listing = client.get("/api/studies").json()["studies"]
    assert [s["name"] for s in listing] == ["search"]
    assert listing[0]["counts"] == {"complete": 5, "pruned": 1, "failed": 1, "running": 0, "waiting": 0}
    assert listing[0]["best"]["number"] == 3 and listing[0]["best"]["value"] == pytest.approx(0.3)

    view = client.get("/api/studies/search").json()
    assert view["metric"] == "val.loss" and view["direction"] == "minimize"
    states = {t["number"]: t["state"] for t in view["trials"]}
    assert states == {0: "complete", 1: "complete", 2: "complete", 3: "complete", 4: "complete", 5: "pruned",
                      6: "failed"}
    pruned = next(t for t in view["trials"] if t["state"] == "pruned")
    assert pruned["pruned_epoch"] == 1 and pruned["value"] == pytest.approx(2.3)  # its model's, when it stopped
    # the best complete value up to each trial; pruned and failed trials carry it on
    assert view["best_so_far"] == [[0, 0.9], [1, 0.5], [2, 0.5], [3, 0.3], [4, 0.3], [5, 0.3], [6, 0.3]]
    importance = view["importance"]
    assert set(importance) == {"train.optimizer.lr", "model.encoder.dropout"}
    assert math.isclose(sum(importance.values()), 1.0, rel_tol=1e-6) and all(v >= 0 for v in importance.values())
    assert client.get("/api/studies/search").json()["importance"] == importance  # seeded: it holds still
    assert client.get("/api/studies/nope").status_code == 404


def test_the_study_pages_link_trials_to_their_runs_and_escape_what_a_study_holds(client):
    page = client.get("/studies/search")
    assert page.status_code == 200 and "default-src 'self'" in page.headers["content-security-policy"]
    html = page.text
    assert "<svg id=\"best-so-far\"" in html and "<polyline" in html
    assert "id=\"importance\"" in html and "<meter" in html and "train.optimizer.lr" in html
    assert "href=\"/runs/search-trial003-20261202-010000\"" in html and "after epoch 1" in html
    assert "the loss is NaN &lt;b&gt;" in html and "NaN <b>" not in html  # an error message is text, not markup
    assert "<script" not in html.replace('<script src="/static/dashboard.js"></script>', "")
    listing = client.get("/studies").text
    assert "href=\"/studies/search\"" in listing and "7: 5 complete, 1 pruned, 1 failed" in listing
    assert "href=\"/studies\"" in client.get("/").text  # every page's header leads to the studies
    assert client.get("/studies/nope").status_code == 404


def test_a_study_with_fewer_than_two_finished_trials_says_why_there_is_no_importance(runs_root):
    write_study(runs_root, name="young", values=(0.4,))
    client = TestClient(create_app(runs_root), base_url=LOCAL)
    view = client.get("/api/studies/young").json()
    assert view["importance"] is None and "2 or more finished trials" in view["importance_note"]
    assert "2 or more finished trials" in client.get("/studies/young").text


def test_a_damaged_journal_a_link_and_a_hostile_name_do_not_break_the_pages(runs_root, tmp_path):
    (runs_root / "garbage.optuna.journal").write_text("{not json\n")
    outside = tmp_path / "elsewhere"
    write_study(outside, name="linked")
    (runs_root / "linked.optuna.journal").symlink_to(outside / "linked.optuna.journal")
    write_study(runs_root, name="<b>bold")
    client = TestClient(create_app(runs_root), base_url=LOCAL)
    listing = {s["name"]: s for s in client.get("/api/studies").json()["studies"]}
    assert set(listing) == {"garbage", "<b>bold"}  # the link out of the root is not followed
    assert "not a study deepscope can read" in listing["garbage"]["error"]
    html = client.get("/studies").text
    assert "&lt;b&gt;bold" in html and "<b>bold" not in html
    assert client.get("/studies/garbage").status_code == 404
    assert client.get("/studies/linked").status_code == 404
