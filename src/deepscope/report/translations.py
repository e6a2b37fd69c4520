"""A translation run's examples: sentences of the evaluation split with the model's translation (greedy, as
validation scored it) and the reference, worst first by sentence chrF."""

from __future__ import annotations

import numpy as np

from deepscope.models.predictor import Predictor
from deepscope.report.context import ReportContext
from deepscope.report.html import escape, note, paragraph, table

TRANSLATED = 64  # sentences of the sample translated for the report (greedy, batched)
WORST, BEST = 8, 4


def _columns(context: ReportContext) -> tuple[str, str]:
    return next(iter(context.inputs)), next(iter(context.outputs))


def render_examples(context: ReportContext) -> str:
    if context.model is None or context.sample is None:
        reason = context.missing.get("model") or context.missing.get("data")
        return note(f"Examples need the model and the data: {reason}.")
    import sacrebleu

    source, target = _columns(context)
    sources = [str(s) for s in context.sample.raw[source][:TRANSLATED]]
    references = [str(r) for r in context.sample.raw[target][:TRANSLATED]]
    predictor = Predictor(context.model, context.inputs, context.outputs, next(context.model.parameters()).device)
    hypotheses = predictor.translate(sources, beam=1)
    scores = [sacrebleu.sentence_chrf(h, [r]).score for h, r in zip(hypotheses, references)]
    order = list(np.argsort(scores, kind="stable"))
    chosen = order[:WORST] + [i for i in order[::-1][:BEST] if i not in order[:WORST]]
    rows = [[escape(sources[i]), escape(hypotheses[i]), escape(references[i]), f"{scores[i]:.0f}"] for i in chosen]
    intro = (f"{len(chosen)} of {len(sources)} {context.sample.split} sentences translated greedily: the {WORST} "
             f"with the lowest sentence chrF first, then the {BEST} best. BLEU and chrF over the whole split "
             "are in the evaluation above (`deepscope evaluate RUN` scores beam search).")
    return paragraph(intro, "muted") + table(["source", "translation", "reference", "chrF"], rows)
