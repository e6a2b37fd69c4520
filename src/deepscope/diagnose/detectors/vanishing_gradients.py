"""Gradients that shrink layer by layer towards the input, so the early layers barely learn; or, in a recurrent
layer, step by step back through time, so the early steps of a sequence barely count."""

from __future__ import annotations

from deepscope.diagnose.detectors import DETECTORS
from deepscope.diagnose.detectors.init_scale import layer_gains
from deepscope.diagnose.finding import Finding
from deepscope.diagnose.record import Record
from deepscope.diagnose.series import healthy_samples, initial_loss, late, layer_medians, median, through_time
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
    """The layer nearest the input, on the path the forward pass really takes, against the strongest one."""
    medians = layer_medians(healthy_samples(record), "grad_rms")
    path, left_out = record.depth_path(list(medians))
    rms = {name: medians[name] for name in path}
    if len(rms) < 3 or max(rms.values()) <= 0:
        return []
    first, last, largest = path[0], path[-1], max(rms, key=rms.get)
    ratio = rms[first] / rms[largest]
    if ratio >= RATIO_WARNING or largest == first or rms[first] == 0 and _all_dead(record):
        return []
    per_layer = ratio ** (1 / max(path.index(largest), 1))
    depth = len(path)
    cause, advice = _cause_and_advice(record, path)
    return [Finding(
        "vanishing_gradients", "error" if ratio < RATIO_ERROR else "warning",
        f"Vanishing gradients: the first layer gets {message_number(ratio)}x the gradient of {largest}",
        "Backpropagation multiplies the gradient by each layer's derivative on its way to the input. Here it "
        f"shrinks by about {message_number(per_layer)}x per layer over {depth} layers, so the layers near the input "
        "hardly change and the network learns like a much shallower one. " + cause,
        {"first_layer": first, "first_layer_grad_rms": rms[first], "last_layer": last, "largest_layer": largest,
         "largest_grad_rms": rms[largest], "ratio": ratio, "shrink_per_layer": per_layer, "layers": depth,
         "activations": record.task.get("activations") or _activation_kinds(record),
         "grad_rms_by_layer": {n: float(f"{v:.3g}") for n, v in rms.items()},
         **({"left_out": left_out} if left_out else {})},
        advice, layer=first)]


SATURATING = ("sigmoid", "tanh")
RELU_NEEDS_GAIN = 2**0.5  # Kaiming: std * sqrt(fan_in) = sqrt(2) keeps a ReLU layer's output as large as its input
KAIMING_LIKE = 1.2  # a median initial gain this large is Kaiming's already (PyTorch's default is 0.58)


def _cause_and_advice(record: Record, path: list[str]) -> tuple[str, list[str]]:
    """What most likely shrinks the gradient, by the activations this network really has."""
    kinds = record.task.get("activations") or _activation_kinds(record)
    gains = layer_gains([layer for layer in record.init.get("layers", []) if layer["name"] in path])
    gain = median(list(gains.values()))
    gain_text = f" (the median here is {message_number(gain)})" if gain is not None else ""
    normalise = "add batch normalisation between layers (batchnorm in a layer list)"
    shallower = "use fewer layers, or residual connections (encoder: resnet)"
    saturating = [kind for kind in SATURATING if kinds.get(kind)]
    if saturating:
        names = " and ".join(saturating)
        return (f"This network has {sum(kinds[k] for k in saturating)} {names} activation(s): their slope is at most "
                "0.25 (sigmoid) or 1 (tanh) and near 0 when they saturate, the classic cause in deep stacks.",
                [f"replace {names} with relu (or gelu) in the hidden layers", normalise, shallower,
                 "then use Kaiming initialisation for the ReLU layers"])
    if kinds and gain is not None and gain >= KAIMING_LIKE:
        return (f"The activations here ({', '.join(sorted(kinds))}) pass the gradient on at full strength where "
                f"they are active, and the initial weights already suit them{gain_text}: dead units (reported "
                "separately when found) or the depth itself are left.",
                [normalise, shallower, "use leaky_relu (or gelu), which passes some gradient where relu is zero"])
    if kinds:
        used = ", ".join(sorted(kinds))
        return (f"The activations here ({used}) pass the gradient on at full strength where they are active, so "
                "they are not the cause. In a deep stack without normalisation the usual cause is an initialisation "
                f"too small for them: each layer should start with a gain (std x sqrt(fan_in)) of about "
                f"{message_number(RELU_NEEDS_GAIN)}, and PyTorch's default gives about 0.58{gain_text}, so the "
                "signal and its gradient shrink at every layer. Dead units (reported separately when found) make it "
                "worse.",
                ["use Kaiming initialisation (nn.init.kaiming_normal_(weight, nonlinearity='relu'))", normalise,
                 shallower])
    return ("Saturating activations (sigmoid, tanh) and initial weights too small for the depth (a gain, std x "
            f"sqrt(fan_in), well under 1{gain_text}) are the usual causes.",
            [normalise, "use Kaiming initialisation for ReLU layers, Xavier for sigmoid/tanh ones", shallower,
             "replace sigmoid/tanh with relu (or gelu) in the hidden layers, if the network has them"])


def _activation_kinds(record: Record) -> dict[str, int]:
    """{kind: count} of the activations the samples measured (records saved before task["activations"])."""
    kinds: dict[str, int] = {}
    for act in record.samples[0]["activations"] if record.samples else []:
        kinds[act["kind"]] = kinds.get(act["kind"], 0) + 1
    return kinds


# A gated cell (LSTM, GRU) starts with its gates half open (PyTorch's init puts them near sigmoid(0) = 0.5), so
# at first the gradient about halves at every step back: the examples/pm25.yaml GRU began at 3e-9 over 48 steps.
# Training opens the gates where the task needs the distant steps (there: 7e-3 by the last epochs), so a gated
# cell is judged from half its planned epochs on, on the late samples, and a fade still lifting is information.
GATED = ("lstm", "gru")
GATED_JUDGED_FROM = 0.5  # of the planned epochs
TRAIN_LONGER = "train longer: the path opens slowly, where the distant steps help (train.epochs)"
LIFTING = 10.0  # the late samples' ratio this many times the early samples': training is opening the path


def _through_time(record: Record) -> list[Finding]:
    """A recurrent layer whose weakest step gets a tiny fraction of the gradient of its strongest, in the model as
    it now is (the late samples)."""
    samples = healthy_samples(record)
    early = through_time(samples[: max(1, len(samples) // 3)])
    for name, layer in through_time(late(samples)).items():
        largest, smallest = layer.get("grad_largest", 0.0), layer.get("grad_smallest", 0.0)
        if largest <= 0 or smallest / largest >= RATIO_WARNING:
            continue
        ratio, steps = smallest / largest, int(layer["steps"])
        cell = (record.task.get("recurrent") or {}).get(name)
        if cell in GATED and not _judged_yet(record):
            continue
        lift = _lift(ratio, early.get(name, {}))
        opening = lift is not None and lift >= LIFTING
        left = _loss_left(record)
        struggling = (left is None or left >= STRUGGLING) and not opening
        severity = ("error" if ratio < RATIO_ERROR else "warning") if struggling else "info"
        share = (f"{message_number(ratio)}x the gradient of the strongest" if ratio
                 else "no gradient at all (it underflows to 0)")
        cause, advice = _recurrent_cause_and_advice(cell)
        if opening:  # training was getting there: more of it comes first
            advice = [TRAIN_LONGER, *(a for a in advice if a != TRAIN_LONGER)]
        return [Finding(
            "vanishing_gradients", severity,
            f"Vanishing gradients through time: in {name}, the weakest of {steps} steps gets {share}",
            "A recurrent layer passes the gradient back one time step at a time, multiplying it by the recurrent "
            f"weights and the activation's slope at each step. Here it fades over the {steps} steps, so what the "
            "sequence says far from where the loss reads it (its start, for a one-way network that keeps the last "
            "state) hardly changes the weights, and long-range dependencies cannot be learned. "
            + (f"Training is not getting far, which this explains. {cause}" if struggling
               else f"But it is lifting: {message_number(lift)}x what it was at the start of training, so training "
               "is opening the path, and more of it may open it further." if opening
               else "The model still learns its task, which may not need those distant steps."),
            {"recurrent_layer": name, "cell": cell, "steps": steps, "ratio": ratio, "lift_since_start": lift,
             "grad_first_step": layer.get("grad_first"), "grad_last_step": layer.get("grad_last"),
             "grad_smallest": smallest, "grad_largest": largest, "train_loss_left": left},
            advice, layer=name)]
    return []


def _lift(ratio: float, early: dict[str, float]) -> float | None:
    """The late ratio over the early samples' (None where the early one is unknown or underflowed to 0)."""
    largest, smallest = early.get("grad_largest", 0.0), early.get("grad_smallest", 0.0)
    return ratio / (smallest / largest) if largest > 0 and smallest > 0 else None


def _judged_yet(record: Record) -> bool:
    trained = record.trained_fraction()
    return trained is None or trained >= GATED_JUDGED_FROM


def _recurrent_cause_and_advice(cell: str | None) -> tuple[str, list[str]]:
    """What to change, by the cell the layer has: never the cell it already is."""
    pool = "pool over all steps (pooling: mean or max) instead of keeping the last state"
    shorter = "use shorter sequences (for a series, a shorter lookback), or a transformer or cnn1d encoder"
    if cell in GATED:
        return (f"This is a {cell.upper()}, whose gates can keep the gradient's path open; here they have learned "
                "to close it, or the distant steps do not help the task.",
                [pool, shorter, TRAIN_LONGER])
    gated = "use an lstm or gru (their gates keep a path for the gradient open): encoder: lstm"
    if cell == "rnn":
        return "Plain tanh RNNs are the classic case.", [gated, pool, shorter]
    return ("Plain tanh RNNs are the classic case.",
            [f"if it is a plain rnn, {gated}", pool, shorter])  # a record from before cells were recorded


def _loss_left(record: Record) -> float | None:
    """The last training loss as a fraction of the loss before training (None when unknown)."""
    train, start = record.series("train.loss"), initial_loss(record)
    return train[-1] / start if train and start and start > 0 else None


def _all_dead(record: Record) -> bool:
    """Zero gradients everywhere before the head are dead ReLUs, which the dead-units detector reports."""
    acts = [a for s in record.samples[-3:] for a in s["activations"] if a["kind"].startswith("relu")]
    return bool(acts) and all(a["dead"] >= 0.99 for a in acts)
