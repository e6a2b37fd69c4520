"""The data section: how many examples each split holds, and every input the source left out while reading it
(lines not valid in the file's encoding, unreadable files), with the reason.

Drawn from the data at hand (the end of training) or else from diagnosis.json's data profile, which keeps the
whole list of what was left out.
"""

from __future__ import annotations

from deepscope.data.sources.base import split_skipped
from deepscope.report.context import ReportContext
from deepscope.report.html import escape, key_values, note, paragraph, table

MAX_SHOWN = 1_000  # entries listed in the page; diagnosis.json keeps the rest


def render(context: ReportContext) -> str:
    profile = context.record("data")
    sizes = context.data.sizes() if context.data is not None and context.data.splits else profile.get("sizes")
    skipped = context.data.raw.skipped if context.data is not None else profile.get("skipped")
    parts = []
    if isinstance(sizes, dict) and sizes:
        parts.append(key_values([(f"{split} examples", n) for split, n in sizes.items()]))
    if isinstance(skipped, list) and skipped:
        parts.append(_skipped(skipped))
    elif isinstance(skipped, list) or context.data is not None:
        parts.append(paragraph("Every input of the source was read: nothing was left out."))
    return "".join(parts) or note("No data profile in this run (diagnosis.json is missing or was made before "
                                  "the profile recorded it).")


def _skipped(skipped: list) -> str:
    entries = [str(entry) for entry in skipped]
    shown = entries[:MAX_SHOWN]
    rows = [split_skipped(entry) for entry in shown]
    more = (f" The first {MAX_SHOWN:,} are listed; diagnosis.json (record.data.skipped) holds all "
            f"{len(entries):,}." if len(entries) > MAX_SHOWN else "")
    summary = escape(f"{len(entries):,} input(s) left out while reading, each with the reason.{more}")
    return (note(f"{len(entries):,} input(s) of the source were left out while reading; the model never saw "
                 "them. See the diagnostics for what to do.", "problem")
            + f"<details open><summary>{summary}</summary>" + table(["input", "why"], rows) + "</details>")
