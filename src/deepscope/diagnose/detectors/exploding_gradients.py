"""Gradient norms that grow by orders of magnitude, over training or layer by layer towards the input."""

from __future__ import annotations

from deepscope.diagnose.detectors import DETECTORS
from deepscope.diagnose.finding import Finding
from deepscope.diagnose.record import Record
from deepscope.diagnose.series import finite, healthy_samples, layer_medians, through_time
from deepscope.formats import message_number

GROWTH = 50.0  # largest sampled gradient norm against the one before training
DEPTH_GROWTH = 1e3  # input-side layer's gradient RMS against the output-side one


@DETECTORS.register("exploding_gradients")
def exploding_gradients(record: Record) -> list[Finding]:
    advice = ["clip gradients: train.grad_clip: 1.0", "lower the learning rate (try 3-10x lower)",
              "add batch or layer normalisation", "for recurrent networks use lstm or gru instead of a plain rnn"]
    initial = record.init.get("grad_norm")
    norms = [(s["step"], s["grad_norm"]) for s in record.samples]
    finite_norms = [(step, n) for step, n in norms if finite([n])]
    if not finite_norms:
        return []
    step, peak = max(finite_norms, key=lambda sn: sn[1])
    if initial and initial > 0 and peak >= GROWTH * initial:
        # the norm is measured before clipping: with clipping on and a finite loss, every update stayed bounded
        clipped = record.task.get("grad_clip") and record.nonfinite is None
        return [Finding(
            "exploding_gradients", "info" if clipped else "error" if peak >= 1e3 * initial else "warning",
            f"Exploding gradients: the gradient norm reached {message_number(peak)} at step {step}, "
            f"{message_number(peak / initial)}x its starting value",
            "The gradient tells each weight how far to move. When its size grows by orders of magnitude, the "
            "updates become huge jumps and training becomes unstable or diverges."
            + (f" Gradient clipping (train.grad_clip: {record.task['grad_clip']}) is on and kept every update "
               "bounded, so this is shown for information." if clipped else ""),
            {"initial_grad_norm": initial, "peak_grad_norm": peak, "step": step, "growth": peak / initial,
             "grad_norms": [float(f"{n:.3g}") for _, n in norms[:20]]}, advice, step=step)]
    medians = layer_medians(healthy_samples(record), "grad_rms")
    names, _ = record.depth_path(list(medians))  # input side first, along the path the forward pass takes
    rms = {name: medians[name] for name in names}
    if len(rms) >= 3:
        first, last = rms[names[0]], rms[names[-1]]
        if last > 0 and first / last >= DEPTH_GROWTH:
            return [Finding(
                "exploding_gradients", "warning",
                f"Exploding gradients: the first layer gets {message_number(first / last)}x the gradient of the last",
                "The gradient grows as it flows back towards the input, layer after layer (or step after step in a "
                "recurrent network), so the early weights take huge, unstable steps.",
                {"first_layer": names[0], "first_grad_rms": first, "last_layer": names[-1], "last_grad_rms": last},
                advice, layer=names[0])]
    return _through_time(record, advice)


def _through_time(record: Record, advice: list[str]) -> list[Finding]:
    """A recurrent layer whose first step gets orders of magnitude more gradient than its last."""
    for name, layer in through_time(healthy_samples(record)).items():
        first, last = layer.get("grad_first", 0.0), layer.get("grad_last", 0.0)
        if last > 0 and first / last >= DEPTH_GROWTH:
            steps = int(layer["steps"])
            return [Finding(
                "exploding_gradients", "warning",
                f"Exploding gradients through time: in {name}, the first of {steps} steps gets "
                f"{message_number(first / last)}x the gradient of the last",
                "A recurrent layer passes the gradient back one time step at a time, multiplying it by the recurrent "
                "weights at each step; here it grows on its way back, so the updates are dominated by the start of "
                "the sequence and become huge, unstable steps.",
                {"recurrent_layer": name, "steps": steps, "grad_first_step": first, "grad_last_step": last,
                 "growth": first / last}, advice, layer=name)]
    return []
