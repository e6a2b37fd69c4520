"""What `deepscope generate --out DIR` writes: a music run's melodies as MIDI files (melody-1.mid, ...) and one
piano roll of them all (melodies.png); a text run's samples as sample-1.txt, ... Every file is written atomically.

    write_generated(ds.load(run).generate(n=2, seed=0), "melodies/")   # [melody-1.mid, melody-2.mid, melodies.png]
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from deepscope.errors import UserError
from deepscope.io import write_text
from deepscope.models.melody import Melody

PIANO_ROLL = "melodies.png"


def write_generated(samples: Sequence[Any], out: str | Path) -> list[Path]:
    """The files written into the folder `out` (made if missing), in order."""
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise UserError(f"--out {out}: is a file; give a folder for the generated files")
    folder.mkdir(parents=True, exist_ok=True)
    melodies = [s for s in samples if isinstance(s, Melody)]
    if not melodies:
        return [write_text(folder / f"sample-{i + 1}.txt", str(s)) for i, s in enumerate(samples)]
    from deepscope.report.melodies import plot_piano_roll

    written = [m.write_midi(folder / f"melody-{i + 1}.mid") for i, m in enumerate(melodies)]
    titles = [f"melody {i + 1}: {len(m.notes)} notes ({written[i].name})" for i, m in enumerate(melodies)]
    return [*written, plot_piano_roll([m.notes for m in melodies], folder / PIANO_ROLL, titles)]
