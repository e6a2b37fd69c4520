"""Every verb of the command line is a name on the package, imported on first use."""

from __future__ import annotations

import subprocess
import sys

import deepscope as ds


def test_the_verbs_are_on_the_package():
    from deepscope.run.evaluate import evaluate
    from deepscope.run.learning_curve import learning_curve
    from deepscope.run.lr_find import lr_find
    from deepscope.run.predict import predict
    from deepscope.run.train import train

    assert (ds.train, ds.evaluate, ds.predict, ds.lr_find, ds.learning_curve) == (
        train, evaluate, predict, lr_find, learning_curve)
    assert callable(ds.runs.list_runs) and callable(ds.runs.compare) and callable(ds.datasets)
    assert callable(ds.ui.serve) and callable(ds.load) and ds.Trainer.__name__ == "Trainer"


def test_report_and_diagnose_are_verbs_and_packages_at_once(tmp_path):
    from deepscope.diagnose.judge import read_findings
    from deepscope.report import write_report

    assert callable(ds.report) and ds.report.write_report is write_report
    assert callable(ds.diagnose) and ds.diagnose.read_findings is read_findings
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "diagnosis.json").write_text('{"format": 1, "findings": [], "record": {}}')
    assert ds.diagnose(tmp_path / "run") == []


def test_importing_the_package_stays_light():
    """`import deepscope` (and so `deepscope --help`) loads neither torch nor any room."""
    code = "import sys, deepscope; print(sorted(m for m in sys.modules if m.startswith(('torch', 'deepscope.'))))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "['deepscope.errors']"
