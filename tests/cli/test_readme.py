"""The README's commands, checked against what the commands do.

Every `deepscope ...` line in the README's code blocks must parse against the real CLI (each option and argument
exists); every config it trains from must load, overrides included; every config block must validate; and the
commands that take seconds run for real, on a small digits run standing in for the README's `runs/mnist-...`,
with the files their help texts promise checked on disk. Long trainings (MNIST, SST-2, ...) are only loaded.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import numpy as np
import pytest
import typer
import yaml
from PIL import Image
from typer.testing import CliRunner

from deepscope.cli.main import app, register
from deepscope.config.loading import load_config

REPO = Path(__file__).parents[2]
README = (REPO / "README.md").read_text()
BLOCKS = re.findall(r"```(\w*)\n(.*?)```", README, re.S)
# the README's stand-ins for a run of yours -> the run this test trains
RUN_PLACEHOLDERS = re.compile(r"runs/mnist-(?:\d{8}-\d{6}|\.\.\.)|\bmnist-\.\.\.|\bRUN(_A|_B)?\b")
TRAINING = {"train", "lr-find", "learning-curve", "tune"}
LONG_RUNS = r"sst2|fsdd|temperatures|shakespeare|chorales|multi30k"  # commands on their runs: tested in tests/run


def readme_commands(*, shown_with_output: bool = False) -> list[list[str]]:
    """Each `deepscope ...` command line of the README's bash blocks (or, with `shown_with_output`, the `$ deepscope`
    lines shown with what they print), as argv after `deepscope`, `[--flag]` written as `--flag`."""
    commands = []
    for _, body in BLOCKS:
        for line in body.splitlines():
            if line.startswith("$ ") != shown_with_output:
                continue
            for part in line.strip().removeprefix("$ ").split("&&"):
                part = re.sub(r"\[(--[\w-]+)\]", r"\1", part.strip())
                if part.startswith("deepscope "):
                    commands.append(shlex.split(part, comments=True)[1:])
    return commands


COMMANDS = readme_commands()


def cli_command(argv: list[str]):
    """The click command `argv` names, and the arguments left for it (`runs list ...` -> list, [...])."""
    register()
    command = typer.main.get_command(app)
    while hasattr(command, "commands") and argv and not argv[0].startswith("-"):
        assert argv[0] in command.commands, f"the README names a command that does not exist: {argv[0]!r}"
        command, argv = command.commands[argv[0]], argv[1:]
    return command, argv


def test_the_readme_shows_the_commands_a_user_needs():
    named = {" ".join(argv[:2]) if argv[0] == "runs" else argv[0] for argv in COMMANDS}
    assert {"demo", "datasets", "train", "evaluate", "predict", "diagnose", "lr-find", "learning-curve", "report",
            "runs list", "runs show", "runs compare", "runs tag", "runs delete", "ui", "serve"} <= named


@pytest.mark.parametrize("argv", COMMANDS + readme_commands(shown_with_output=True), ids=" ".join)
def test_every_readme_command_parses(argv):
    command, rest = cli_command(argv)
    command.make_context(argv[0], list(rest))  # raises click's UsageError on an unknown option or a missing argument


@pytest.mark.parametrize("argv", [a for a in COMMANDS if a[0] in TRAINING and a[1].endswith(".yaml")], ids=" ".join)
def test_every_config_the_readme_trains_from_loads(argv):
    config = load_config(REPO / argv[1], [a for a in argv[2:] if "=" in a and not a.startswith("-")])
    assert config.data.source and config.train.epochs >= 1


def test_every_config_block_in_the_readme_validates():
    blocks = [yaml.safe_load(body) for lang, body in BLOCKS if lang == "yaml"]
    configs = [block for block in blocks if isinstance(block, dict) and "data" in block]
    assert configs, "the README shows no config"
    for config in configs:
        assert load_config(config).model_dump(mode="json")


def test_a_config_mistake_prints_what_the_readme_shows(deepscope):
    block = next(body for _, body in BLOCKS if body.startswith("$ deepscope"))
    command, *shown = block.strip().splitlines()
    result = deepscope(*shlex.split(command)[2:], cwd=REPO, env={"COLUMNS": "200"})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    printed = " ".join(result.stderr.split())
    for line in shown:
        assert " ".join(line.strip().removesuffix("...").split()) in printed, (line, result.stderr)


@pytest.fixture(scope="module")
def readme_runs(tmp_path_factory):
    """`runs/` under a working folder holding two small finished digits runs, as the README's commands expect."""
    import deepscope as ds

    cwd = tmp_path_factory.mktemp("readme")
    config = {"data": {"source": "digits"}, "model": {"encoder": {"name": "mlp", "hidden": [64]}},
              "train": {"epochs": 2, "batch_size": 64, "optimizer": {"name": "adam", "lr": 0.01}},
              "run": {"root": str(cwd / "runs"), "report": False}}
    runs = [ds.train(config, {"run.name": name}, progress=False).dir for name in ("mnist", "other")]
    digits = __import__("sklearn.datasets", fromlist=["load_digits"]).load_digits()
    Image.fromarray((digits.images[0] * 255 / 16).astype(np.uint8)).save(cwd / "digit.png")
    return cwd, runs


def fast_commands() -> list[list[str]]:
    """The README commands that take seconds here: not trainings, not the server."""
    return [argv for argv in COMMANDS
            if argv[0] not in TRAINING | {"ui", "demo", "serve"} and "--server" not in argv  # servers: tests/serve
            and not re.search(LONG_RUNS, " ".join(argv))]


def test_the_readme_commands_that_take_seconds_run_and_write_what_their_help_says(readme_runs, monkeypatch):
    # in this process (the CLI's own parser and code; a subprocess per command would import torch ten times):
    # `deepscope ARGS` is `app(ARGS)`, run from the folder that holds `runs/`
    cwd, (run, other) = readme_runs
    monkeypatch.chdir(cwd)
    register()
    ran = []
    for argv in sorted(fast_commands(), key=lambda a: a[:2] == ["runs", "delete"]):  # delete removes the run: last
        argv = [RUN_PLACEHOLDERS.sub(lambda m: str(other if m.group(1) == "_B" else run), a) for a in argv]
        result = CliRunner().invoke(app, argv, env={"COLUMNS": "200"})
        assert result.exit_code == 0, (argv, result.output, result.exception)
        ran.append(argv[:2] if argv[0] == "runs" else argv[:1])
        check_outcome(argv, result.output, run, cwd)
    assert len(ran) >= 10


def check_outcome(argv: list[str], output: str, run: Path, cwd: Path) -> None:
    """What each command's help text (or the README line) says it leaves behind."""
    verb = argv[0]
    if verb == "evaluate":  # help: "also written to RUN/evaluation-SPLIT.json"
        split = argv[argv.index("--split") + 1]
        final = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
        trained = next(row for row in final if row.get("split") == split)
        assert json.loads((run / f"evaluation-{split}.json").read_text())["accuracy"] == trained["accuracy"]
    elif verb == "predict":  # help: "--output ... (default: RUN/predictions.csv)"
        assert (run / "predictions.csv").read_text().startswith("input")
    elif verb == "diagnose" and "--json" in argv:
        assert isinstance(json.loads(output), (list, dict))
    elif verb == "report":  # help: "(default RUN/report.html)"
        assert (run / "report.html").read_text().lstrip().startswith("<!")
    elif argv[:2] == ["runs", "list"]:  # --where "test.accuracy>0.98": listed exactly when it holds
        accuracy = json.loads((run / "evaluation-test.json").read_text())["accuracy"]
        assert (run.name in output) == (accuracy > 0.98), output
    elif argv[:2] == ["runs", "compare"]:
        assert (cwd / argv[argv.index("--plot") + 1]).read_bytes()[:4] == b"\x89PNG"
    elif argv[:2] == ["runs", "tag"]:  # help: "kept in the run folder's tags.json"
        assert json.loads((run / "tags.json").read_text())["group"] == "baseline"
    elif argv[:2] == ["runs", "delete"] and "--files" in argv:
        assert not run.exists()
