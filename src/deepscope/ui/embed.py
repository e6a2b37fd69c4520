"""The report's sections for the run page, made by `deepscope.report.report_body`.

A run page must open whatever state the run is in, so nothing here raises: a missing report module, a run
folder that is gone or a report that fails becomes a note or an error shown above the run's summary. Reports
take a while, so the run's own report.html is used when it is up to date, a report from the run's files alone
(no model, no data) otherwise, and the last few are kept until the run's files change.
"""

from __future__ import annotations

import logging
import traceback
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from deepscope.track.runinfo import FILES

log = logging.getLogger(__name__)
KEEP = 8  # reports kept in memory


@dataclass(frozen=True)
class Embedded:
    html: str | None = None  # the report's sections
    note: str | None = None  # why there is no report, when that is expected
    error: str | None = None  # why making it failed
    trace: str | None = None


class ReportCache:
    def __init__(self) -> None:
        self._kept: OrderedDict[tuple[str, float], str] = OrderedDict()

    def for_run(self, run_dir: str | Path) -> Embedded:
        folder = Path(run_dir)
        if not folder.is_dir():
            return Embedded(error=f"the run folder {folder} is gone; `deepscope runs reindex` forgets it")
        try:
            from deepscope.report import body_of, report_body
        except ModuleNotFoundError as missing:
            if missing.name and missing.name.startswith("deepscope.report"):
                return Embedded(note="The report is not available in this installation (no deepscope.report).")
            return _failed(missing)
        except Exception as error:  # a broken report module must not take the run page down with it
            return _failed(error)
        key = (str(folder.resolve()), _stamp(folder))
        if key in self._kept:
            self._kept.move_to_end(key)
            return Embedded(html=self._kept[key])
        try:
            written = folder / "report.html"
            if written.exists() and written.stat().st_mtime >= key[1]:  # the report training wrote, up to date
                html = body_of(written.read_text(encoding="utf-8"))
            else:  # drawn from the run's files only: no model loading or data preparation inside a request
                html = report_body(folder, load=False)
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


def _stamp(folder: Path) -> float:
    """When the run's files last changed: a newer model or more metrics make a new report."""
    paths = [folder / name for name in FILES] + [folder / "model" / "weights.safetensors"]
    return max((p.stat().st_mtime for p in paths if p.exists()), default=0.0)
