"""Far more parameters than training examples: room to memorise.

Judged on `record.task["n_params"]` and `record.task["n_train"]`. Only information: large networks often
generalise well, so this says where to look (the overfitting finding), not that something is wrong.
"""

from __future__ import annotations

from deepscope.diagnose.detectors import DETECTORS
from deepscope.diagnose.finding import Finding
from deepscope.diagnose.record import Record

MANY = 100  # parameters per training example


@DETECTORS.register("parameters_vs_examples")
def parameters_vs_examples(record: Record) -> list[Finding]:
    params, examples = record.task.get("n_params"), record.task.get("n_train")
    if not params or not examples or params < MANY * examples:
        return []
    return [Finding(
        "parameters_vs_examples", "info",
        f"{params:,} parameters for {examples:,} training examples ({params / examples:,.0f} per example)",
        "A network with far more parameters than examples can memorise the training set outright. That is not "
        "a problem in itself (large networks often generalise well), but it is a risk of overfitting: watch "
        "the validation loss.",
        {"n_params": params, "n_train": examples, "per_example": round(params / examples, 1)},
        ["watch the overfitting finding and the validation loss",
         "more training examples, or data augmentation for images (data.augment.flip, shift, rotate)",
         "regularise: train.optimizer.weight_decay: 1e-4, or dropout (model.combiner.dropout: 0.3)",
         "a smaller model may do as well"])]
