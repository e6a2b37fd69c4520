"""How far a set of explanations can be trusted, in plain words: findings like the diagnostics give."""

from __future__ import annotations

from deepscope.diagnose.finding import Finding
from deepscope.explain.faithfulness.measure import MARGIN, Faithfulness
from deepscope.formats import message_number

COMPLETENESS_INFO = 0.05  # integrated gradients' attributions miss more than 5 % of the score's change
COMPLETENESS_WARNING = 0.25  # ... or more than a quarter of it: the map's sizes are not to be read as shares


def faithfulness_findings(f: Faithfulness) -> list[Finding]:
    """What the faithfulness numbers say about the method's maps: empty when they hold up."""
    return [*_not_faithful(f), *_ignores_model(f), *_sizes_follow_input(f), *_incomplete(f)]


def _not_faithful(f: Faithfulness) -> list[Finding]:
    if f.beats_random:
        return []
    weak_insertion = f.insertion_gain < MARGIN
    return [Finding(
        "explanation_not_faithful", "warning",
        f"{f.method}: removing the top-ranked inputs lowers the score no faster than removing random ones "
        f"(area {message_number(f.deletion_area)} vs {message_number(f.deletion_random_area)} at random)",
        "Removing the pixels (or tokens, or columns) this method ranks highest lowers the model's score no faster "
        "than removing random ones: its maps do not show what the model uses."
        + (" Putting them back first does not restore the score faster than random either." if weak_insertion
           else ""),
        {"method": f.method, "deletion_area": f.deletion_area, "deletion_random_area": f.deletion_random_area,
         "deletion_gain": f.deletion_gain, "insertion_area": f.insertion_area,
         "insertion_random_area": f.insertion_random_area, "insertion_gain": f.insertion_gain,
         "required_gain": MARGIN},
        [f"prefer a method whose deletion area is at least {MARGIN:.0%} below random's "
         "(integrated gradients or occlusion for images)",
         "check the baseline: replacing units by a value the model reads as evidence hides their removal",
         "explain more examples: a handful gives noisy areas"])]


def _ignores_model(f: Faithfulness) -> list[Finding]:
    result = f.randomisation
    if result is None or result.passes:
        return []
    return [Finding(
        "explanation_ignores_model", "warning",
        f"{f.method}: the maps barely change when the model's weights are replaced by random ones "
        f"(rank correlation {message_number(result.final)})",
        f"The maps barely change when the model's weights are replaced by random ones (rank correlation "
        f"{message_number(result.final)} with the trained model's maps, signs included, after re-drawing all "
        f"{len(result.layers)} layers): this method shows the input's structure (its edges, its bright parts), "
        "not what the model learned.",
        {"method": f.method, "final_correlation": result.final, "threshold": result.threshold,
         "correlation_by_stage": dict(zip(result.layers, (float(f"{c:.3g}") for c in result.correlations)))},
        ["do not read these maps as the model's reasons; use a method that passes the check (saliency, integrated "
         "gradients)", "compare with the map of an untrained model before trusting a method on a new model"])]


def _sizes_follow_input(f: Faithfulness) -> list[Finding]:
    """The signed maps pass the check, but their sizes alone would not: the order of |map| survives random
    weights. Typical of the methods that multiply by (input - baseline)."""
    result = f.randomisation
    magnitude = result.magnitude_final if result is not None else None
    if result is None or not result.passes or magnitude is None or magnitude < result.threshold:
        return []
    return [Finding(
        "explanation_sizes_follow_input", "info",
        f"{f.method}: the maps' signs follow the model, their sizes partly follow the input "
        f"(rank correlation {message_number(result.final)} signed, {message_number(magnitude)} of |map|)",
        f"With every layer re-drawn at random, the maps' signs no longer agree with the trained model's (rank "
        f"correlation {message_number(result.final)}), so they do show what the model learned. Their sizes alone "
        f"still agree (rank correlation {message_number(magnitude)} of |map|): this method multiplies by how far "
        "each input is from the baseline, so strongly marked parts of the input get large attributions whatever "
        "the weights.",
        {"method": f.method, "final_correlation": result.final, "magnitude_final_correlation": magnitude,
         "threshold": result.threshold},
        ["read which parts push for and which against the prediction, not how large each attribution is",
         "compare with saliency, whose sizes do not multiply by the input"])]


def _incomplete(f: Faithfulness) -> list[Finding]:
    error = f.completeness_error
    if error is None or error <= COMPLETENESS_INFO:
        return []
    return [Finding(
        "completeness_error", "warning" if error > COMPLETENESS_WARNING else "info",
        f"{f.method}: the attributions account for the score's change only to within {error:.0%}",
        "Integrated gradients' attributions of an example should add up to how far its score moved from the "
        f"baseline to the input. Here they miss by {error:.0%} on average: the integral was taken in too few steps, "
        "so the sizes of the attributions are approximate.",
        {"method": f.method, "completeness_error": error, "info_above": COMPLETENESS_INFO,
         "warning_above": COMPLETENESS_WARNING},
        ["use more integration steps (n_steps: 200 instead of Captum's 50)",
         "a baseline closer to the input (blurred rather than zeros) shortens the path to integrate"])]
