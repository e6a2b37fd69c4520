"""Gradient norms that grow by orders of magnitude, over training or layer by layer towards the input."""

from __future__ import annotations

from deepscope.diagnose.detectors import DETECTORS
from deepscope.diagnose.finding import Finding
from deepscope.diagnose.record import Record
from deepscope.diagnose.series import finite, fmt, healthy_samples, layer_medians

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
        return [Finding(
            "exploding_gradients", "error" if peak >= 1e3 * initial else "warning",
            f"Exploding gradients: the gradient norm reached {fmt(peak)} at step {step}, {fmt(peak / initial)}x its "
            "starting value",
            "The gradient tells each weight how far to move. When its size grows by orders of magnitude, the "
            "updates become huge jumps and training becomes unstable or diverges.",
            {"initial_grad_norm": initial, "peak_grad_norm": peak, "step": step, "growth": peak / initial,
             "grad_norms": [float(f"{n:.3g}") for _, n in norms[:20]]}, advice, step=step)]
    rms = layer_medians(healthy_samples(record), "grad_rms")
    if len(rms) >= 3:
        names = list(rms)
        first, last = rms[names[0]], rms[names[-1]]
        if last > 0 and first / last >= DEPTH_GROWTH:
            return [Finding(
                "exploding_gradients", "warning",
                f"Exploding gradients: the first layer gets {fmt(first / last)}x the gradient of the last",
                "The gradient grows as it flows back towards the input, layer after layer (or step after step in a "
                "recurrent network), so the early weights take huge, unstable steps.",
                {"first_layer": names[0], "first_grad_rms": first, "last_layer": names[-1], "last_grad_rms": last},
                advice, layer=names[0])]
    return []
