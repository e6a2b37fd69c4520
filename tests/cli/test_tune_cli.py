"""`deepscope tune`: a small search printed and its best config written; a mistake in the space is exit code 2."""

from __future__ import annotations

import pytest
import yaml

pytest.importorskip("optuna")

CONFIG = {"data": {"source": "digits", "inputs": {"image": "image"}},
          "model": {"encoder": {"name": "mlp", "hidden": [16]}},
          "train": {"epochs": 1, "batch_size": 64}, "diagnose": False, "run": {"root": "runs", "report": False},
          "tune": {"space": {"train.optimizer.lr": {"log_uniform": [1e-3, 3e-2]}, "model.encoder.dropout": [0.0, 0.2]},
                   "trials": 5}}


def test_tune_prints_the_best_trial_and_writes_its_config(tmp_path, deepscope):
    (tmp_path / "search.yaml").write_text(yaml.safe_dump(CONFIG))
    result = deepscope("tune", "search.yaml", "train.epochs=2", "--trials", "2", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "study search (runs/search.optuna.journal): 2 trials in the study" in result.stdout
    assert "best trial" in result.stdout and "val.loss" in result.stdout and "train.optimizer.lr" in result.stdout
    assert "trial 0 complete" in result.stderr and "trial 1" in result.stderr  # one line per trial as it goes
    best = yaml.safe_load((tmp_path / "runs" / "search-best.yaml").read_text())
    assert "tune" not in best and best["train"]["epochs"] == 2  # the override is part of what was tuned
    assert 1e-3 <= best["train"]["optimizer"]["lr"] <= 3e-2 and best["model"]["encoder"]["dropout"] in (0.0, 0.2)
    assert len(list((tmp_path / "runs").glob("search-trial00[01]-*"))) == 2

    again = deepscope("tune", "search.yaml", "--trials", "1", cwd=tmp_path)  # the same study gets one more
    assert again.returncode == 0, again.stderr
    assert "3 trials in the study" in again.stdout and "1 run now" in again.stdout
    assert "1 other config" in again.stderr  # 1 epoch now, 2 before: the study holds both
    # the best config is the best trial's own, whichever command ran it
    best = yaml.safe_load((tmp_path / "runs" / "search-best.yaml").read_text())
    best_run = next(line.rsplit("run ", 1)[1] for line in (tmp_path / "runs" / "search-best.yaml").read_text()
                    .splitlines() if line.startswith("# The best trial"))
    trained = yaml.safe_load((tmp_path / best_run / "config.yaml").read_text())
    assert best["train"]["epochs"] == trained["train"]["epochs"]


@pytest.mark.parametrize(("space", "fragments"), [
    ({"train.optimizer.lr": {"loguniform": [1e-4, 1e-1]}}, ["tune.space", "did you mean log_uniform"]),
    ({"train.optimzer.lr": [0.1]}, ["tune.space.train.optimzer.lr", "did you mean train.optimizer"]),
])
def test_a_mistake_in_the_space_is_one_message_and_exit_code_2(tmp_path, deepscope, space, fragments):
    (tmp_path / "search.yaml").write_text(yaml.safe_dump({**CONFIG, "tune": {"space": space}}))
    result = deepscope("tune", "search.yaml", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr


def test_bad_options_are_exit_code_2(tmp_path, deepscope):
    (tmp_path / "search.yaml").write_text(yaml.safe_dump({k: v for k, v in CONFIG.items() if k != "tune"}))
    result = deepscope("tune", "search.yaml", cwd=tmp_path)
    assert result.returncode == 2 and "no `tune:` section" in result.stderr
    (tmp_path / "search.yaml").write_text(yaml.safe_dump(CONFIG))
    for option, fragment in (("--trials=0", "--trials 0"), ("--study=a/b", "--study"), ("--timeout=-1", "--timeout")):
        result = deepscope("tune", "search.yaml", option, cwd=tmp_path)
        assert result.returncode == 2 and fragment in result.stderr and "Traceback" not in result.stderr, result.stderr
