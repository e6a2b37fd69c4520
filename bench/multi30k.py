"""Claim (issue 16): a translation model trained by `deepscope train examples/multi30k.yaml` reaches >= 30
sacreBLEU on Multi30k test_2016_flickr, English -> German, with at most 60 minutes of training on 2 CPU cores.

Prints the parameter count, the training time (the trainer's own, from metrics.jsonl) and validation BLEU after
each epoch (BLEU against training time; greedy, on ids), then sacreBLEU's BLEU and chrF of greedy and beam-search
translations of test_2016_flickr against the raw references, with sacreBLEU's signature, and the same for
test_2018_flickr, which no choice of the recipe looked at. Finally a few translations beside their references.

    DEEPSCOPE_DATA=../shared/data python bench/multi30k.py [--run RUN] [--set train.epochs=2 ...] [--beam 5]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import machine  # noqa: E402

import deepscope as ds  # noqa: E402
from deepscope.config.loading import load_config  # noqa: E402
from deepscope.run.translation import extra_split, score_translations  # noqa: E402
from deepscope.track.rundir import RunDir  # noqa: E402
from deepscope.track.runinfo import read_run  # noqa: E402

ROOT = Path(__file__).parents[1]
TARGET_BLEU, BUDGET_S = 30.0, 60 * 60
TEST_SETS = ("test_2016_flickr", "test_2018_flickr")
SHOWN = 5


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--run", help="a finished run of examples/multi30k.yaml (default: train one)")
    parser.add_argument("--set", nargs="*", default=[], help="config overrides, e.g. train.epochs=1")
    parser.add_argument("--beam", type=int, default=5)
    parser.add_argument("--alpha", type=float, default=0.6)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    run = args.run or str(ds.train(ROOT / "examples" / "multi30k.yaml",
                                   {"run.root": tempfile.mkdtemp(prefix="multi30k-"),
                                    **dict(item.split("=", 1) for item in args.set)}, progress=False).dir)
    info = read_run(run)
    model = ds.load(run)
    print(f"run: {run}\nparameters: {sum(p.numel() for p in model.model.parameters()):,}")
    elapsed = 0.0
    for row in info.epochs:
        elapsed += row["time"]
        print(f"  epoch {row['epoch']:>2}: {elapsed / 60:5.1f} min  val.bleu {row.get('val.bleu', float('nan')):5.2f}"
              f"  val.nats {row.get('val.nats', float('nan')):.3f}")
    print(f"training time: {elapsed:.0f} s ({elapsed / 60:.1f} min, budget {BUDGET_S / 60:.0f})")
    config = load_config(RunDir(Path(run)).config)
    source, target = config.data.translation.source_language, config.data.translation.target_language
    for name in TEST_SETS:
        pairs = extra_split(config, name)
        sources, references = list(pairs[source]), list(pairs[target])
        for beam in (1, args.beam):
            started = time.perf_counter()
            hypotheses = model.translate(sources, beam=beam, alpha=args.alpha)
            seconds = time.perf_counter() - started
            scores = score_translations(hypotheses, references)
            how = "greedy" if beam == 1 else f"beam {beam}, alpha {args.alpha:g}"
            verdict = ""
            if name == TEST_SETS[0]:
                met = scores["bleu"] >= TARGET_BLEU and elapsed <= BUDGET_S
                verdict = f" (target >= {TARGET_BLEU:g} within {BUDGET_S // 60} min: {'met' if met else 'MISSED'})"
            print(f"{name} [{how}]: BLEU {scores['bleu']:.2f}, chrF {scores['chrf']:.2f}{verdict}; "
                  f"{len(sources):,} sentences in {seconds:.0f} s")
            print(f"  {scores['bleu_signature']}\n  {scores['chrf_signature']}")
        if name == TEST_SETS[0]:
            for s, h, r in list(zip(sources, hypotheses, references))[:SHOWN]:
                print(f"  source:      {s}\n  translation: {h}\n  reference:   {r}")


if __name__ == "__main__":
    main()
