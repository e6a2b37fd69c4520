"""`data.music`: melodies as a language model's data (next-token prediction over notes, data/music.py).

`data.source` is a folder of MusicXML (.musicxml, .xml, .mxl) and MIDI (.mid, .midi) files, one piece each, or
the builtin `bach-chorales` (the chorales music21 ships: 409 pieces with a soprano part). One voice of every
piece becomes a line of notes; the pieces are split WHOLE (never a piece in two splits): a shuffle of the pieces
with `seed`, the first `val` of them validate, the next `test` test, the rest train. The vocabulary is fitted on
the training pieces only.

    music: {voice: soprano, context: 128}                 # 10 % of the pieces validate
    music: {voice: bass, val: 0.1, test: 0.1, transpose: 5}   # training pieces also in 10 other keys
"""

from __future__ import annotations

from pydantic import Field, model_validator

from deepscope.config.section import Section


class MusicConfig(Section):
    voice: str = Field("soprano", description="the part to learn: a part name (soprano, alto, tenor, bass, or any "
                                              "name a file gives, any case) or its number from 1; soprano falls "
                                              "back to a piece's first part when none is named so")
    context: int = Field(128, ge=2, le=8192, description="tokens the model reads at once (two per note)")
    val: float = Field(0.1, ge=0.0, lt=1.0, description="the fraction of the pieces (whole) for validation")
    test: float = Field(0.0, ge=0.0, lt=1.0, description="the fraction of the pieces (whole) for the test split")
    seed: int = Field(0, description="the shuffle of the pieces that decides which are held out")
    stride: int | None = Field(None, ge=1, description="tokens between the starts of consecutive training windows "
                                                       "(default: context / 2; held-out windows never overlap)")
    transpose: int = Field(0, ge=0, le=6, description="augmentation, training pieces only: each also transposed by "
                                                      "-t..+t semitones (0: none); held-out pieces stay as written")

    @model_validator(mode="after")
    def _training_left(self) -> MusicConfig:
        if self.val + self.test >= 0.9:
            raise ValueError(f"val ({self.val:g}) and test ({self.test:g}) leave too few pieces to train on; keep "
                             "them under 0.9 together")
        return self
