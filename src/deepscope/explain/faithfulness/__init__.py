"""Explanations that check themselves: how far an attribution map shows what the model really uses.

- `deletion_curve` / `insertion_curve` + `area`: the score as the top-ranked units are removed / put back,
  against a random order (curves.py);
- `completeness_error`: integrated gradients' attributions against f(x) - f(baseline) (completeness.py);
- `randomisation_check`: the model-randomisation sanity check of Adebayo et al., 2018 (randomisation.py);
- `Faithfulness`, `measure_faithfulness` (measure.py) and `faithfulness_findings` (findings.py): the numbers
  together, and what they say in plain words.

Pure functions over a scores function `inputs (n, *shape) -> (n,)` and tensors: no dependency on how a model or
a method is wrapped.
"""

from deepscope.explain.faithfulness.completeness import completeness_error
from deepscope.explain.faithfulness.curves import Scores, area, deletion_curve, insertion_curve
from deepscope.explain.faithfulness.findings import faithfulness_findings
from deepscope.explain.faithfulness.measure import Faithfulness, measure_faithfulness
from deepscope.explain.faithfulness.randomisation import RandomisationResult, randomisation_check

__all__ = ["Faithfulness", "RandomisationResult", "Scores", "area", "completeness_error", "deletion_curve",
           "faithfulness_findings", "insertion_curve", "measure_faithfulness", "randomisation_check"]
