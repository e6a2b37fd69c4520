"""`deepscope generate RUN [--prompt "..."] [--max-tokens 200] [--temperature 0.8] [--top-k K] [--top-p 0.95]
[--n 3] [--seed S] [--out DIR]`: text from a language-model run, each sample printed after its prompt; for a music
run (data.music), melodies as tokens, and with --out their MIDI files and a piano roll (run/generate.py)."""

from __future__ import annotations

from pathlib import Path

import typer

from deepscope.cli.main import app


@app.command()
def generate(
    run: Path = typer.Argument(..., help="a finished language-model run (trained with data.corpus or data.music)"),
    prompt: str = typer.Option("", "--prompt", help="the text to continue (empty: start after a line break); "
                                "for melodies, token names after a piece's start, e.g. \"p67 d1\""),
    max_tokens: int = typer.Option(200, "--max-tokens", help="new tokens per sample"),
    temperature: float = typer.Option(0.8, "--temperature", help="below 1: safer; above: wilder; 0: greedy"),
    top_k: int | None = typer.Option(None, "--top-k", help="sample among the k likeliest tokens only"),
    top_p: float | None = typer.Option(0.95, "--top-p", help="sample among the likeliest tokens whose probability "
                                       "reaches p (nucleus sampling); 1: all"),
    n: int = typer.Option(1, "--n", help="samples"),
    seed: int | None = typer.Option(None, "--seed", help="the same seed gives the same samples"),
    out: Path | None = typer.Option(None, "--out", help="a folder for the samples: melody-N.mid and melodies.png "
                                    "(a piano roll) for a music run, sample-N.txt for text"),
) -> None:
    """Generate text from a trained language model."""
    import deepscope as ds

    samples = ds.load(run).generate(prompt, max_tokens=max_tokens, temperature=temperature, top_k=top_k,
                                    top_p=top_p, n=n, seed=seed)
    melodies = not all(isinstance(sample, str) for sample in samples)  # a music run's: they hold their prompt
    for i, sample in enumerate(samples):
        if n > 1:
            typer.echo(f"--- sample {i + 1} of {n}")
        typer.echo(f"{sample} ({len(sample.notes)} notes)" if melodies else prompt + sample)
    if out is not None:
        from deepscope.run.generate import write_generated

        for path in write_generated(samples, out):
            typer.echo(f"wrote {path}")
