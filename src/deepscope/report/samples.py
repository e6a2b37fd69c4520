"""A language model's examples: the texts it wrote after its first and its last epochs (RUN/samples.jsonl, the
same seed each epoch), so a reader sees what training taught it, beside the loss curve. A music run's samples
are melodies' tokens: they are drawn as piano rolls (report/melodies.py)."""

from __future__ import annotations

import json

from deepscope.data.music import is_music_token
from deepscope.report.context import ReportContext
from deepscope.report.html import escape, note, paragraph
from deepscope.track.runfiles import folder_text

MAX_CHARS = 1_000  # of one sample shown


def render(context: ReportContext) -> str:
    text, problem = folder_text(context.path, "samples.jsonl")
    by_epoch = _samples(text or "")
    if not by_epoch:
        return note(problem or "This language model kept no samples while it trained; `deepscope generate RUN --n 3` "
                    "writes some now.")
    if _melodies(by_epoch):
        from deepscope.report.melodies import render as melodies

        return melodies(by_epoch)
    epochs = sorted(by_epoch)
    shown = [epochs[0]] + ([epochs[-1]] if len(epochs) > 1 else [])
    parts = [paragraph(f"Texts written with the same seed after epoch {epochs[0]} and after epoch {epochs[-1]}, "
                       "from the start of a line (temperature 0.8, top-p 0.95).")]
    for epoch in shown:
        parts.append(f"<h3>after epoch {epoch}</h3>")
        parts += [f"<pre>{escape(sample[:MAX_CHARS])}</pre>" for sample in by_epoch[epoch]]
    return "\n".join(parts)


def _melodies(by_epoch: dict[int, list[str]]) -> bool:
    """Whether the samples are a music run's (token names, data/music.py) rather than text."""
    names = [name for samples in by_epoch.values() for sample in samples for name in sample.split()]
    return bool(names) and all(is_music_token(name) for name in names)


def _samples(text: str) -> dict[int, list[str]]:
    """{epoch: samples}; the last line of an epoch wins (a resumed run writes its epochs again), and a line cut
    short by a kill, or not written by deepscope, is passed over."""
    found: dict[int, list[str]] = {}
    for line in text.splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict) and isinstance(row.get("epoch"), int) and isinstance(row.get("samples"), list):
            found[row["epoch"]] = [str(s) for s in row["samples"]]
    return found
