"""Claim (issue 16): a language model of the chorales' soprano lines (`deepscope train examples/chorales.yaml`, a
seeded 10 % of the 409 chorales held out whole) predicts the held-out melodies clearly better than a bigram
(Markov) model of the same tokens.

Prints the validation loss in nats per note (every predicted token's nats over the notes among them; two tokens
a note, data/music.py) of the trained model, beside three n-gram baselines fitted here on the model's own
training tokens and scored on exactly the model's validation targets: a unigram, a bigram (each token from the one
before) and a trigram (each token from the two before: a pitch from the previous note, a duration from its pitch
and the previous duration: a first-order Markov chain over notes). Each baseline is add-k smoothed, k tuned on
every 10th training chorale held out of its counts, then refitted on all of them. A baseline gets its whole
history even at a window's start, where the model sees less: the comparison leans toward the baselines.

    python bench/chorales.py [--run RUN] [--set train.epochs=2 ...]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from common import machine  # noqa: E402

import deepscope as ds  # noqa: E402
from deepscope.config.loading import load_config  # noqa: E402
from deepscope.data.music import PIECE  # noqa: E402
from deepscope.data.prepare import prepare_data  # noqa: E402
from deepscope.track.runinfo import read_run  # noqa: E402

ROOT = Path(__file__).parents[1]
SMOOTHING = (1.0, 0.3, 0.1, 0.03, 0.01, 0.003, 0.001)  # add-k candidates
TUNING_EVERY = 10  # every 10th training chorale tunes k


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--run", help="a finished run of examples/chorales.yaml (default: train one)")
    parser.add_argument("--set", nargs="*", default=[], help="config overrides, e.g. train.epochs=1")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    run = args.run or str(ds.train(ROOT / "examples" / "chorales.yaml",
                                   {"run.root": tempfile.mkdtemp(prefix="chorales-"),
                                    **dict(item.split("=", 1) for item in args.set)}, progress=False).dir)
    info, model = read_run(run), ds.load(run)
    config = load_config(Path(run) / "config.yaml")
    data = prepare_data(config.data)
    vocabulary = data.inputs["tokens"].fitted["vocabulary"]
    assert vocabulary == model.inputs["tokens"].fitted["vocabulary"], "the data differ from the run's"
    windows = data.raw.splits["val"]["tokens"]
    note_ids = np.array(data.inputs["tokens"].fitted["note_ids"])
    positions = (windows.starts[:, None] + 1 + np.arange(windows.context)[None, :]).reshape(-1)  # the targets
    targets = windows.ids[positions]
    notes = int(np.isin(targets, note_ids).sum())

    seconds = sum(row["time"] for row in info.epochs)
    parameters = sum(p.numel() for p in model.model.parameters())
    print(f"run: {run}\nparameters: {parameters:,}; training time: {seconds:.0f} s ({seconds / 60:.1f} min); "
          f"epochs: {len(info.epochs)}")
    print(f"validation: {len(targets):,} tokens, {notes:,} notes "
          f"({data.raw.description.split(': ', 1)[1]})\n")

    train_ids = data.raw.splits["train"]["tokens"].ids
    piece = vocabulary.index(PIECE)
    model_nats = _model_nats(model.model, windows)
    streams = {"transposed": train_ids, "as written": _as_written(train_ids, piece, config.data.music.transpose)}
    rows = [_baseline(name, order, streams, windows.ids, positions, len(vocabulary), piece)
            for name, order in (("unigram", 1), ("bigram", 2), ("trigram", 3))]
    rows.append(("model (the run's transformer)", model_nats))
    bigram = rows[1][1]
    print(f"{'':44} {'nats/note':>10} {'nats/token':>11} {'vs bigram':>10}")
    for name, nats in rows:
        print(f"{name:44} {nats / notes:10.3f} {nats / len(targets):11.3f} {nats / bigram:9.2f}x")
    logged = info.finals["val"].get("nats_per_note")
    print(f"\nthe run's own validation: {logged:.3f} nats/note" if logged is not None else "")
    met = model_nats < 0.9 * bigram
    print(f"model below the bigram by {100 * (1 - model_nats / bigram):.1f} %, below the trigram by "
          f"{100 * (1 - model_nats / rows[2][1]):.1f} % -> {'met (clearly below the bigram)' if met else 'MISSED'}")


def _baseline(name: str, order: int, streams: dict[str, np.ndarray], ids: np.ndarray, positions: np.ndarray,
              size: int, piece: int) -> tuple[str, float]:
    """The better (on validation: the benefit of the doubt) of the n-gram fitted on the model's training tokens
    (transposed copies too) and on the chorales as written."""
    fits = {which: _ngram_nats(train, ids, positions, order, size, piece) for which, train in streams.items()}
    which, (k, nats) = min(fits.items(), key=lambda item: item[1][1])
    return f"{name} (add-k, k={k:g}, {which})", nats


def _as_written(train: np.ndarray, piece: int, transpose: int) -> np.ndarray:
    """The training stream without its transposed copies: data/sources/music.py writes each piece's copies
    together, from -transpose to +transpose semitones, so the untransposed one is the middle of each group."""
    pieces = np.split(train, np.flatnonzero(train == piece))[1:]  # each starts with its <piece>; the last is alone
    kept = pieces[transpose:-1:2 * transpose + 1]
    return np.concatenate([*kept, [piece]])


@torch.inference_mode()
def _model_nats(model: torch.nn.Module, windows) -> float:
    """Σ nats of the model over the validation windows' targets (each window read alone, as in training)."""
    inputs, targets = torch.from_numpy(windows.inputs()), torch.from_numpy(windows.targets())
    logits = model({"tokens": inputs})["next"].float()
    return float(torch.nn.functional.cross_entropy(logits.flatten(0, 1), targets.reshape(-1), reduction="sum"))


def _ngram_nats(train: np.ndarray, ids: np.ndarray, positions: np.ndarray, order: int, size: int,
                piece: int) -> tuple[float, float]:
    """(k, Σ nats) of an add-k n-gram fitted on `train` over the tokens of `ids` at `positions`."""
    pieces = np.split(train, np.flatnonzero(train == piece))
    tuning = np.concatenate([p for i, p in enumerate(pieces) if i % TUNING_EVERY == 1] + [[piece]])
    fitting = np.concatenate([p for i, p in enumerate(pieces) if i % TUNING_EVERY != 1] + [[piece]])
    tune_at = np.arange(order - 1, len(tuning))
    k = min(SMOOTHING, key=lambda k: _nats(_counts(fitting, order, size), tuning, tune_at, k, piece))
    return k, _nats(_counts(train, order, size), ids, positions, k, piece)


def _counts(ids: np.ndarray, order: int, size: int) -> np.ndarray:
    counts = np.zeros((size,) * order)
    grams = np.stack([ids[i:len(ids) - order + 1 + i] for i in range(order)])
    np.add.at(counts, tuple(grams), 1)
    return counts


def _nats(counts: np.ndarray, ids: np.ndarray, positions: np.ndarray, k: float, piece: int) -> float:
    """Σ -ln p(token | the order - 1 tokens before it); before a stream's start, <piece> stands in."""
    order = counts.ndim
    padded = np.concatenate([np.full(order - 1, piece), ids])
    at = positions + order - 1
    history = tuple(padded[at - order + 1 + i] for i in range(order - 1))
    rows = counts[history] if history else np.broadcast_to(counts, (len(at), counts.shape[-1]))  # (n, V)
    p = (rows[np.arange(len(at)), padded[at]] + k) / (rows.sum(axis=-1) + k * counts.shape[-1])
    return float(-np.log(p).sum())


if __name__ == "__main__":
    main()
