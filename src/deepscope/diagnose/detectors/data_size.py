"""Not enough data: the learning curve (on request, `deepscope learning-curve`) is still climbing."""

from __future__ import annotations

from deepscope.diagnose.detectors import DETECTORS
from deepscope.diagnose.finding import Finding
from deepscope.diagnose.record import Record
from deepscope.diagnose.series import fmt

CLIMBING = 0.01  # accuracy gained from twice the data (absolute) that makes collecting it worthwhile
CLIMBING_RELATIVE = 0.05  # or relative error reduction, for regression


@DETECTORS.register("not_enough_data")
def not_enough_data(record: Record) -> list[Finding]:
    curve = record.learning_curve
    if not curve.get("scores"):
        return []
    now, doubled, tenfold = curve["scores"][-1], curve["projected"]["2x"], curve["projected"]["10x"]
    gain = doubled - now if curve["higher_is_better"] else now - doubled
    worthwhile = gain > (CLIMBING if curve["higher_is_better"] else CLIMBING_RELATIVE * abs(now))
    evidence = {"metric": curve["metric"], "sizes": curve["sizes"], "scores": [round(s, 4) for s in curve["scores"]],
                "projected_2x": round(doubled, 4), "projected_10x": round(tenfold, 4), "fit": curve["fit"]}
    if worthwhile:
        return [Finding(
            "not_enough_data", "warning",
            f"More data would help: {curve['metric']} {fmt(now)} now, about {fmt(doubled)} projected with twice the data",
            "Trained on growing parts of the data, the model keeps improving, and the fitted curve has not levelled "
            "off: more labelled examples would improve it more than a bigger model would.",
            evidence, ["collect more labelled examples: this is what the curve says would help most",
                       ("for images, augment the training data: data.augment.flip: horizontal, "
                        "data.augment.shift: 3, data.augment.rotate: 10 (each a plausible variation of an example)"),
                       "meanwhile prefer a smaller model and stronger regularisation (dropout, weight decay)"])]
    return [Finding(
        "learning_curve_flat", "info",
        f"The learning curve has levelled off: {curve['metric']} {fmt(now)}, about {fmt(doubled)} with twice the data",
        "More data of the same kind would barely help; a better model, better features or cleaner labels would.",
        evidence, ["try a different or larger model, or better input features", "check the labels for noise"])]
