"""Per-example loss weights (`data.weights`): each group of a column weighs the same in the training loss.

A training example of a group of n_g rows (of n, in G groups) weighs n / (G * n_g): the weights average 1, and
each group's weights sum to n / G. With `sex` 67 % male, a man weighs 0.75 and a woman 1.5. The weights travel in
the training batches under `EXAMPLE_WEIGHT`, a key no feature has (features and encoders read their own columns);
the heads' losses read it (models/builder.py). Validation and test data carry none, so they are scored unweighted.

    weights = balance_weights(raw.splits["train"], ["sex"])       # (N,) float32, mean 1
    TensorData({**encoded, EXAMPLE_WEIGHT: torch.from_numpy(weights)})
"""

from __future__ import annotations

import numpy as np

from deepscope.errors import DataError

EXAMPLE_WEIGHT = "__weight__"  # the batch key of the per-example weights (no column may be named so)
MAX_GROUPS = 100  # more groups than this is a column of numbers or ids, whose rare values would get huge weights


def balance_weights(columns: dict[str, np.ndarray], balance: list[str]) -> np.ndarray:
    """(N,) float32 weights under which every group of `balance` (joint groups for several columns) weighs the same.

    Args:
        columns: the raw training columns (any column of the data: inputs, outputs, or neither).
        balance: the column names whose values (pairs of values for two, ...) form the groups; a missing value
            (None) is a group of its own.

    Raises:
        DataError: a column that is not in the data, one that is not one value per row, or more than MAX_GROUPS
            groups (a column of numbers: balance a category or a binned copy instead).

    Example:
        >>> balance_weights({"sex": np.array(["m", "m", "m", "f"], dtype=object)}, ["sex"]).tolist()
        [0.6666666865348816, 0.6666666865348816, 0.6666666865348816, 2.0]
    """
    keys = []
    for name in balance:
        if name not in columns:
            raise DataError(f"data.weights.balance: no column {name!r} in the data; columns are: {', '.join(columns)}")
        values = np.asarray(columns[name])
        if values.ndim != 1:
            raise DataError(f"data.weights.balance: column {name!r} holds arrays of shape {values.shape[1:]}, not one "
                            "value per row; balance a column of categories (sex, race, the label)")
        keys.append(np.array([str(v) for v in values]))  # as text: None and mixed types compare
    joint = keys[0] if len(keys) == 1 else np.array(["\0".join(parts) for parts in zip(*keys)])
    _, group, counts = np.unique(joint, return_inverse=True, return_counts=True)
    if len(counts) > MAX_GROUPS:
        raise DataError(f"data.weights.balance: {', '.join(balance)} make {len(counts):,} groups in the training "
                        f"data, more than {MAX_GROUPS}: that is a column of numbers or ids, and its rarest values "
                        "would weigh thousands of times more than the others; balance a column of categories")
    n, groups = len(joint), len(counts)
    return (n / (groups * counts[group.reshape(-1)])).astype(np.float32)
