"""The report put together: the summary, a table of contents, and one section per part of the run.

A section that fails to draw (a run unlike any seen before) shows the error in its place; the rest of the
report still renders, because a report that breaks on one odd run would hide every other thing it shows.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from deepscope import __version__
from deepscope.errors import UserError
from deepscope.io import write_text
from deepscope.report import (
    curves,
    data,
    diagnostics,
    evaluation,
    examples,
    explanations,
    fairness,
    model,
    run_details,
    summary,
)
from deepscope.report.context import ReportContext
from deepscope.report.html import body, escape, note, page, section
from deepscope.track.resolve import run_folder

log = logging.getLogger("deepscope")

SECTIONS: list[tuple[str, str, Callable[[ReportContext], str]]] = [
    ("data", "Data", data.render),
    ("model", "Model", model.render),
    ("training", "Training curves", curves.render),
    ("diagnostics", "Diagnostics", diagnostics.render),
    ("evaluation", "Evaluation", evaluation.render),
    ("examples", "Examples", examples.render),
    ("explanations", "Explanations", explanations.render),
    ("fairness", "Fairness", fairness.render),
    ("config", "Config", run_details.config),
    ("environment", "Environment", run_details.environment),
    ("timings", "Timings and files", run_details.timings),
]


def report_body(run_dir: str | Path, *, model: torch.nn.Module | None = None, data: Any = None,
                load: bool = True) -> str:
    """The report's sections as an HTML fragment (with its scoped <style>), for embedding in another page.

    Args:
        run_dir: a run directory, finished or not.
        model, data: the trained model and its `PreparedData`, when at hand (the end of training).
        load: load the model and prepare the data again from the run folder when they are not given; False
            draws only what the run's files hold (fast: no model, no data, no predictions).
    """
    started = time.perf_counter()
    context = ReportContext.gather(_checked(run_dir), model=model, data=data, load=load)
    parts = [_safely(summary.render, context, "summary")]
    parts.append("<nav>" + "".join(f"<a href=\"#{anchor}\">{escape(title)}</a>" for anchor, title, _ in SECTIONS)
                 + "</nav>")
    for anchor, title, render in SECTIONS:
        parts.append(section(anchor, title, _safely(render, context, anchor)))
    parts.append(f"<p class=\"muted\">Made by deepscope {escape(__version__)} on {time.strftime('%Y-%m-%d %H:%M')} "
                 f"in {time.perf_counter() - started:.1f} s.</p>")
    return body(parts)


def render_report(run_dir: str | Path, *, model: torch.nn.Module | None = None, data: Any = None,
                  load: bool = True) -> str:
    """The whole self-contained report page (see `report_body` for the arguments)."""
    return page(f"{Path(run_dir).name}: deepscope report", report_body(run_dir, model=model, data=data, load=load))


def write_report(run_dir: str | Path, *, model: torch.nn.Module | None = None, data: Any = None,
                 out: str | Path | None = None) -> Path:
    """Write the report of a run to `out` (default RUN_DIR/report.html), atomically; returns its path.

    Example:
        >>> run = deepscope.train("examples/mnist.yaml")          # doctest: +SKIP
        >>> write_report(run.dir, model=run.model, data=run.data)  # doctest: +SKIP
        PosixPath('runs/mnist-20261130-192105/report.html')
    """
    run_dir = run_folder(run_dir, command="report")  # a clear message for a path that is not a run
    document = render_report(run_dir, model=model, data=data)
    return write_text(Path(out) if out is not None else Path(run_dir) / "report.html", document)


def _checked(run_dir: str | Path) -> Path:
    path = Path(run_dir)
    if not path.is_dir():
        raise UserError(f"{run_dir}: no such run directory; give a folder made by `deepscope train` (runs/NAME-DATE)")
    return path


def _safely(render: Callable[[ReportContext], str], context: ReportContext, name: str) -> str:
    try:
        return render(context)
    except Exception as error:  # one section's failure must not lose the others; the log keeps the traceback
        log.warning("report: the %s section could not be drawn", name, exc_info=True)
        return note(f"This section could not be drawn ({type(error).__name__}: {error}).", "problem")
