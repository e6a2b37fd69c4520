"""`deepscope translate RUN "A man is riding a bike." [...] [--file FILE] [--beam 5] [--alpha 0.6]`: a
translation run's translations, one per line, in the order given."""

from __future__ import annotations

from pathlib import Path

import typer

from deepscope.cli.main import app


@app.command()
def translate(
    run: Path = typer.Argument(..., help="a finished translation run (trained with data.translation)"),
    texts: list[str] = typer.Argument(None, help="the sentences to translate"),
    file: Path | None = typer.Option(None, "--file", help="a UTF-8 text file: one sentence per line"),
    beam: int = typer.Option(5, "--beam", help="hypotheses kept by beam search (1: greedy)"),
    alpha: float = typer.Option(0.6, "--alpha", help="length penalty exponent: 0 none, higher favours longer"),
) -> None:
    """Translate sentences with a trained sequence-to-sequence model."""
    import deepscope as ds
    from deepscope.errors import UserError

    sentences = list(texts or [])
    if file is not None:
        if not file.is_file():
            raise UserError(f"--file {file}: no such file")
        try:
            sentences += [line for line in file.read_text(encoding="utf-8").splitlines() if line.strip()]
        except UnicodeDecodeError as error:
            raise UserError(f"--file {file}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    if not sentences:
        raise UserError("give sentences to translate: deepscope translate RUN \"A man is riding a bike.\" (or --file)")
    for translation in ds.load(run).translate(sentences, beam=beam, alpha=alpha):
        typer.echo(translation)
