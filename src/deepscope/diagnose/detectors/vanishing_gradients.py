"""Gradients that shrink layer by layer towards the input, so the early layers barely learn; or, in a recurrent
layer, step by step back through time, so the early steps of a sequence barely count."""

from __future__ import annotations

from deepscope.diagnose.detectors import DETECTORS
from deepscope.diagnose.finding import Finding
from deepscope.diagnose.record import Record
from deepscope.diagnose.series import healthy_samples, initial_loss, layer_medians, through_time
from deepscope.formats import message_number

RATIO_WARNING = 1e-3  # input-side layer's gradient RMS against the largest layer's
RATIO_ERROR = 1e-6
# through time, a fading gradient is only a problem if the task needs the distant steps: it is reported as such
# when training fails (loss still above this fraction of the start), and as information otherwise
STRUGGLING = 0.5


@DETECTORS.register("vanishing_gradients")
def vanishing_gradients(record: Record) -> list[Finding]:
    return _through_depth(record) or _through_time(record)


def _through_depth(record: Record) -> list[Finding]:
    rms = {name: value for name, value in layer_medians(healthy_samples(record), "grad_rms").items()}
    if len(rms) < 3 or max(rms.values()) <= 0:
        return []
    names = list(rms)
    first, largest = names[0], max(rms, key=rms.get)
    ratio = rms[first] / rms[largest]
    if ratio >= RATIO_WARNING or largest == first or rms[first] == 0 and _all_dead(record):
        return []
    per_layer = ratio ** (1 / max(names.index(largest), 1))
    depth = len(names)
    return [Finding(
        "vanishing_gradients", "error" if ratio < RATIO_ERROR else "warning",
        f"Vanishing gradients: the first layer gets {message_number(ratio)}x the gradient of {largest}",
        "Backpropagation multiplies the gradient by each layer's derivative on its way to the input. Here it "
        f"shrinks by about {message_number(per_layer)}x per layer over {depth} layers, so the layers near the input "
        "hardly change and the network learns like a much shallower one. Sigmoid and tanh (whose slopes are at "
        "most 0.25 and 1) in deep stacks are the classic cause.",
        {"first_layer": first, "first_layer_grad_rms": rms[first], "largest_layer": largest,
         "largest_grad_rms": rms[largest], "ratio": ratio, "shrink_per_layer": per_layer, "layers": depth,
         "grad_rms_by_layer": {n: float(f"{v:.3g}") for n, v in rms.items()}},
        ["replace sigmoid/tanh with relu (or gelu) in the hidden layers",
         "add batch normalisation between layers (batchnorm in a layer list)",
         "use fewer layers, or residual connections (encoder: resnet)",
         "use Kaiming initialisation for ReLU networks"],
        layer=first)]


def _through_time(record: Record) -> list[Finding]:
    """A recurrent layer whose weakest step gets a tiny fraction of the gradient of its strongest."""
    for name, layer in through_time(healthy_samples(record)).items():
        largest, smallest = layer.get("grad_largest", 0.0), layer.get("grad_smallest", 0.0)
        if largest <= 0 or smallest / largest >= RATIO_WARNING:
            continue
        ratio, steps = smallest / largest, int(layer["steps"])
        left = _loss_left(record)
        struggling = left is None or left >= STRUGGLING
        severity = ("error" if ratio < RATIO_ERROR else "warning") if struggling else "info"
        share = (f"{message_number(ratio)}x the gradient of the strongest" if ratio
                 else "no gradient at all (it underflows to 0)")
        return [Finding(
            "vanishing_gradients", severity,
            f"Vanishing gradients through time: in {name}, the weakest of {steps} steps gets {share}",
            "A recurrent layer passes the gradient back one time step at a time, multiplying it by the recurrent "
            f"weights and the activation's slope at each step. Here it fades over the {steps} steps, so what the "
            "sequence says far from where the loss reads it (its start, for a one-way network that keeps the last "
            "state) hardly changes the weights, and long-range dependencies cannot be learned. "
            + ("Training is not getting far, which this explains. Plain tanh RNNs are the classic case." if struggling
               else "The model still learns its task, which may not need those distant steps."),
            {"recurrent_layer": name, "steps": steps, "ratio": ratio, "grad_first_step": layer.get("grad_first"),
             "grad_last_step": layer.get("grad_last"), "grad_smallest": smallest, "grad_largest": largest,
             "train_loss_left": left},
            ["use an lstm or gru (their gates keep a path for the gradient open): encoder: lstm",
             "pool over all steps (pooling: mean or max) instead of keeping the last state",
             "use shorter sequences, or a transformer or cnn1d encoder"],
            layer=name)]
    return []


def _loss_left(record: Record) -> float | None:
    """The last training loss as a fraction of the loss before training (None when unknown)."""
    train, start = record.series("train.loss"), initial_loss(record)
    return train[-1] / start if train and start and start > 0 else None


def _all_dead(record: Record) -> bool:
    """Zero gradients everywhere before the head are dead ReLUs, which the dead-units detector reports."""
    acts = [a for s in record.samples[-3:] for a in s["activations"] if a["kind"].startswith("relu")]
    return bool(acts) and all(a["dead"] >= 0.99 for a in acts)
