"""Melodies as piano rolls: time along (quarter notes), pitch up, a bar per note. The report shows a music run's
melodies written after its first and last epochs (RUN/samples.jsonl), and `deepscope generate --out` writes the
same plot as a PNG beside the MIDI files.

    plot_piano_roll([melody.notes for melody in melodies], "melodies.png", ["melody 1", "melody 2"])
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from deepscope.data.music import PIECE, Note
from deepscope.models.melody import Melody
from deepscope.report.html import figure, note, paragraph
from deepscope.report.plots import COLOURS, STYLE, WIDE, pyplot, to_svg, write_png

NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
ROW_HEIGHT = 1.9  # inches a melody
BEAT_LINES = 4.0  # a faint vertical line every 4 quarter notes (a bar of 4/4, the chorales' usual metre)
MAX_NOTES, MAX_MELODIES = 400, 4  # drawn of one melody, and melodies of one epoch (a run folder may hold more)


def render(by_epoch: dict[int, list[str]]) -> str:
    """The report's section for a music run: piano rolls of the melodies of its first and last epochs."""
    epochs = sorted(by_epoch)
    shown = [epochs[0]] + ([epochs[-1]] if len(epochs) > 1 else [])
    parts = [paragraph(f"Melodies written with the same seed after epoch {epochs[0]} and after epoch {epochs[-1]}, "
                       "each from the start of a piece (temperature 0.8, top-p 0.95); `deepscope generate RUN --n 2 "
                       "--out DIR` writes MIDI files.")]
    for epoch in shown:
        melodies = [Melody.from_tokens([PIECE, *sample.split()]) for sample in by_epoch[epoch][:MAX_MELODIES]]
        notes = [m.notes[:MAX_NOTES] for m in melodies if m.notes]
        if not notes:
            parts.append(note(f"After epoch {epoch} the model wrote no complete note."))
            continue
        titles = [f"melody {i + 1}: {len(n)} notes" for i, n in enumerate(notes)]
        parts.append(figure(piano_roll_svg(notes, titles), f"after epoch {epoch}"))
    return "\n".join(parts)


def piano_roll_svg(melodies: Sequence[Sequence[Note]], titles: Sequence[str] = ()) -> str:
    return to_svg(piano_roll_figure(melodies, titles))


def plot_piano_roll(melodies: Sequence[Sequence[Note]], path: str | Path, titles: Sequence[str] = ()) -> Path:
    return write_png(piano_roll_figure(melodies, titles), path, dpi=110)


def piano_roll_figure(melodies: Sequence[Sequence[Note]], titles: Sequence[str] = ()) -> Any:
    """One row per melody, on a shared pitch scale and time scale."""
    from matplotlib.figure import Figure

    pitches = [n.pitch for notes in melodies for n in notes if not n.is_rest] or [60]
    low, high = min(pitches) - 1, max(pitches) + 1
    length = max([sum(n.quarters for n in notes) for notes in melodies] + [1.0])
    with pyplot().rc_context(STYLE):
        fig = Figure(figsize=(WIDE, 0.4 + ROW_HEIGHT * len(melodies)))
        axes = fig.subplots(len(melodies), 1, squeeze=False)[:, 0]
        for i, (ax, notes) in enumerate(zip(axes, melodies)):
            _roll(ax, notes, low, high, length, COLOURS[i % len(COLOURS)])
            ax.set_title(titles[i] if i < len(titles) else f"melody {i + 1}", loc="left")
        axes[-1].set_xlabel("time (quarter notes)")
    return fig


def _roll(ax: Any, notes: Sequence[Note], low: int, high: int, length: float, colour: str) -> None:
    onset, bars = 0.0, []
    for n in notes:
        if not n.is_rest:
            bars.append((onset, n.pitch, n.quarters))
        onset += n.quarters
    for start, pitch, quarters in bars:  # a bar from the note's onset to its end, a little short to show repeats
        ax.broken_barh([(start, quarters * 0.94)], (pitch - 0.4, 0.8), facecolors=colour)
    ax.set_xlim(0, length)
    ax.set_ylim(low - 0.5, high + 0.5)
    ticks = [p for p in range(low, high + 1) if p % 12 in (0, 7)] or [low]  # every C and G: an octave's frame
    ax.set_yticks(ticks, [f"{NAMES[p % 12]}{p // 12 - 1}" for p in ticks])
    for beat in range(0, int(length) + 1, int(BEAT_LINES)):
        ax.axvline(beat, color="#e5e7eb", linewidth=0.6, zorder=0)
    ax.grid(axis="y", color="#f1f5f9", linewidth=0.6)
    ax.set_axisbelow(True)
