"""The run's report for the run page, which frames it (`deepscope.ui.security`: sandboxed, no script).

A run page must open whatever state the run is in, so nothing here raises: a missing report module, a run
folder that is gone or a report that fails becomes a note or an error shown above the run's summary. Reports
take a while, so the run's own report.html is used when it is up to date, a report drawn from the run's files
alone (no model, no data) otherwise, and the last few are kept until the run's files change.

A run folder may come from someone else: its report.html is served only if it is a file of the folder (a link
to /etc/passwd is refused, not followed) and of a size a browser can show.
"""

from __future__ import annotations

import logging
import traceback
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from deepscope.io import resolves_inside
from deepscope.track.runinfo import FILES

log = logging.getLogger(__name__)
KEEP = 8  # reports kept in memory
MAX_REPORT_BYTES = 64 * 2**20  # a report with many example images is a few MB; 64 MB is not one deepscope wrote


@dataclass(frozen=True)
class Embedded:
    html: str | None = None  # the report: a whole HTML document
    note: str | None = None  # why there is no report, when that is expected
    error: str | None = None  # why making it failed
    trace: str | None = None


class ReportCache:
    def __init__(self) -> None:
        self._kept: OrderedDict[tuple[str, float, float], str] = OrderedDict()

    def for_run(self, run_dir: str | Path) -> Embedded:
        folder = Path(run_dir)
        if not folder.is_dir():
            return Embedded(error=f"the run folder {folder} is gone; `deepscope runs reindex` forgets it")
        written = folder / "report.html"
        refusal = _unservable(written, folder)
        if refusal:  # before the kept reports: a report.html replaced by a link is refused from then on
            return Embedded(error=refusal)
        try:
            from deepscope.report import render_report
        except ModuleNotFoundError as missing:
            if missing.name and missing.name.startswith("deepscope.report"):
                return Embedded(note="The report is not available in this installation (no deepscope.report).")
            return _failed(missing)
        except Exception as error:  # a broken report module must not take the run page down with it
            return _failed(error)
        # the run's files and its report.html: a report written again (`deepscope report`) is shown at once
        key = (str(folder.resolve()), _stamp(folder), written.stat().st_mtime if written.is_file() else 0.0)
        if key in self._kept:
            self._kept.move_to_end(key)
            return Embedded(html=self._kept[key])
        try:
            if written.is_file() and written.stat().st_mtime >= key[1]:  # the report training wrote, up to date
                html = written.read_text(encoding="utf-8", errors="replace")
            else:  # drawn from the run's files only: no model loading or data preparation inside a request
                html = render_report(folder, load=False)
        except Exception as error:  # the page shows the run's summary and why, instead of a server error
            return _failed(error)
        self._kept[key] = html
        while len(self._kept) > KEEP:
            self._kept.popitem(last=False)
        return Embedded(html=html)


def _failed(error: BaseException) -> Embedded:
    log.warning("report failed: %s: %s", type(error).__name__, error, exc_info=error)
    trace = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    return Embedded(error=f"{type(error).__name__}: {error}", trace=trace)


def _unservable(report: Path, folder: Path) -> str | None:
    """Why the run's report.html must not be served, or None (also when there is none: one is drawn)."""
    if not (report.exists() or report.is_symlink()):
        return None
    if report.is_symlink() and not resolves_inside(report, folder):
        return (f"{report} is a link to a file outside the run folder; the dashboard does not follow it. "
                f"Delete the link, then `deepscope report {folder}` writes a real report")
    if not report.is_file():
        return f"{report} is not a file; delete it, then `deepscope report {folder}` writes the report"
    size = report.stat().st_size
    if size > MAX_REPORT_BYTES:
        return (f"{report} is {size / 2**20:.0f} MB, more than the {MAX_REPORT_BYTES // 2**20} MB the dashboard "
                f"shows; `deepscope report {folder}` writes it again")
    return None


def _stamp(folder: Path) -> float:
    """When the run's files last changed: a newer model or more metrics make a new report. Only files of the
    folder count: a link leading out of it is not the run's."""
    paths = [folder / name for name in FILES] + [folder / "model" / "weights.safetensors"]
    return max((p.stat().st_mtime for p in paths if resolves_inside(p, folder)), default=0.0)
