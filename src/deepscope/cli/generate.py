"""`deepscope generate RUN [--prompt "..."] [--max-tokens 200] [--temperature 0.8] [--top-k K] [--top-p 0.95]
[--n 3] [--seed S]`: text from a language-model run, each sample printed after its prompt."""

from __future__ import annotations

from pathlib import Path

import typer

from deepscope.cli.main import app


@app.command()
def generate(
    run: Path = typer.Argument(..., help="a finished language-model run (trained with data.corpus)"),
    prompt: str = typer.Option("", "--prompt", help="the text to continue (empty: start after a line break)"),
    max_tokens: int = typer.Option(200, "--max-tokens", help="new tokens per sample"),
    temperature: float = typer.Option(0.8, "--temperature", help="below 1: safer; above: wilder; 0: greedy"),
    top_k: int | None = typer.Option(None, "--top-k", help="sample among the k likeliest tokens only"),
    top_p: float | None = typer.Option(0.95, "--top-p", help="sample among the likeliest tokens whose probability "
                                       "reaches p (nucleus sampling); 1: all"),
    n: int = typer.Option(1, "--n", help="samples"),
    seed: int | None = typer.Option(None, "--seed", help="the same seed gives the same samples"),
) -> None:
    """Generate text from a trained language model."""
    import deepscope as ds

    samples = ds.load(run).generate(prompt, max_tokens=max_tokens, temperature=temperature, top_k=top_k,
                                    top_p=top_p, n=n, seed=seed)
    for i, sample in enumerate(samples):
        if n > 1:
            typer.echo(f"--- sample {i + 1} of {n}")
        typer.echo(prompt + sample)
