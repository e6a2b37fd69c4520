"""Captum is imported when an explanation is computed, not with deepscope, and hiding IPython from it leaves no
trace: `import IPython` still works afterwards, and a session that already imported IPython keeps it."""

from __future__ import annotations

import subprocess
import sys

import pytest


def python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_training_imports_no_captum():
    assert python("import sys, deepscope.run.train; print('captum' in sys.modules)") == "False"


def test_captum_is_imported_on_first_use_and_ipython_stays_importable():
    pytest.importorskip("IPython")
    out = python("import sys\nfrom deepscope.explain.methods.captum_api import attr\n"
                 "print(attr().Saliency.__name__, 'IPython' in sys.modules)\nimport IPython\nprint('ok')")
    assert out.splitlines() == ["Saliency False", "ok"]


def test_a_session_with_ipython_keeps_it():
    pytest.importorskip("IPython")
    out = python("import IPython, sys\nfrom deepscope.explain.methods.captum_api import attr\n"
                 "attr()\nprint(sys.modules['IPython'] is IPython)")
    assert out == "True"
