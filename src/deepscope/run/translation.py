"""A translation run scored the way papers report it: sacreBLEU's BLEU and chrF of the detokenized translations
against the raw reference texts, with the signature that says how (tokenizer, casing, smoothing, version).

    scores = score_translations(hypotheses, references)
    scores["bleu"], scores["bleu_signature"]      # 35.2, "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0"

`evaluate` of a translation run (run/evaluate.py) adds these to the teacher-forced metrics, translating the split
with beam search; `--split NAME` also reads the NAME.SRC / NAME.TGT files of the run's folder that are not one of
its splits (test_2018_flickr beside test_2016_flickr).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from deepscope.errors import UserError


def score_translations(hypotheses: list[str], references: list[str]) -> dict[str, Any]:
    import sacrebleu

    bleu, chrf = sacrebleu.metrics.BLEU(), sacrebleu.metrics.CHRF()
    return {"bleu": bleu.corpus_score(hypotheses, [references]).score,
            "chrf": chrf.corpus_score(hypotheses, [references]).score,
            "bleu_signature": str(bleu.get_signature()), "chrf_signature": str(chrf.get_signature())}


def extra_split(config: Any, split: str) -> dict[str, np.ndarray] | None:
    """The sentence pairs of files NAME.SRC / NAME.TGT in a translation run's folder, for `--split NAME`."""
    from deepscope.data.sources.parallel import _read_pairs
    from deepscope.data.timeseries import expand_path

    t = config.data.translation
    if t is None:
        return None
    folder = expand_path(config.data.source)
    try:
        (sources, targets), _ = _read_pairs(folder, split, t.source_language, t.target_language, config.data.encoding)
    except UserError:
        return None
    return {t.source_language: sources, t.target_language: targets}


def translation_scores(saved: Any, columns: dict[str, np.ndarray], *, beam: int, alpha: float) -> dict[str, Any]:
    """sacreBLEU's scores of the saved model's translations of `columns` (beam search), against the raw
    reference texts."""
    from deepscope.models.predictor import Predictor

    (source_name,), (target_name,) = list(saved.inputs), list(saved.outputs)
    predictor = Predictor(saved.model, saved.inputs, saved.outputs, next(saved.model.parameters()).device)
    hypotheses = predictor.translate(list(columns[source_name]), beam=beam, alpha=alpha)
    return {**score_translations(hypotheses, list(columns[target_name])), "beam": beam, "alpha": alpha}
