"""Token embeddings that can start from pretrained vectors in a local GloVe-format text file.

A GloVe file has one token per line followed by its vector: `the 0.418 0.24968 -0.41242 ...`. The vectors are
read once, before training, by `load_pretrained()` (`models.builder.load_pretrained` calls it); a saved model's
weights already hold them, so prediction never needs the file.

    embedding = TokenEmbedding(["<pad>", "<unk>", "good", "film"], dim=50, pretrained="glove.6B.50d.txt")
    embedding.load_pretrained()          # rows of tokens found in the file become their GloVe vectors
    embedding(torch.tensor([[2, 3, 0]])).shape   # (1, 3, 50)
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from torch import nn

from deepscope.errors import DataError

log = logging.getLogger("deepscope")


# N(0, 0.1), not torch's N(0, 1): a rare word's random vector is then small beside what training writes into the
# frequent ones, instead of loud noise that training at lr 1e-3 barely moves (the examples/sst2.yaml recipe, one
# seed: 85.0 % dev accuracy against 82.8 % with N(0, 1))
INIT_STD = 0.1


class TokenEmbedding(nn.Embedding):
    """`nn.Embedding` with row 0 as padding (always zero), small random vectors, and optional GloVe vectors.

    Tokens found in the file (exactly, else lower-cased) take its vectors; the others keep random vectors
    drawn with the same spread as the loaded ones, so that they start on the same scale. `freeze` keeps the
    whole table fixed during training.
    """

    def __init__(self, tokens: list[str], dim: int, *, pretrained: str | None = None, freeze: bool = False,
                 padding_idx: int = 0, where: str = "model.encoder.embedding"):
        super().__init__(len(tokens), dim, padding_idx=padding_idx)
        self.tokens = list(tokens)
        self.pretrained, self.freeze, self.where = pretrained, freeze, where
        self.found = 0  # tokens that took a pretrained vector (set by load_pretrained)
        if freeze:
            self.weight.requires_grad_(False)

    def reset_parameters(self) -> None:
        nn.init.normal_(self.weight, 0.0, INIT_STD)
        self._fill_padding_idx_with_zero()

    def load_pretrained(self) -> None:
        """Fill rows from the GloVe file, if one was given. Raises DataError for a missing or mismatched file."""
        if not self.pretrained:
            return
        vectors = read_glove(Path(self.pretrained), self.tokens, self.embedding_dim, where=f"{self.where}.pretrained")
        vectors.pop(self.padding_idx, None)  # padding stays a zero vector
        with torch.no_grad():
            if vectors:
                found = torch.stack(list(vectors.values()))  # (found, dim)
                spread = found.std().item() if found.numel() > 1 else 1.0
                self.weight.normal_(0.0, spread)  # unmatched rows on the pretrained vectors' scale
                self.weight[list(vectors)] = found
            self.weight[self.padding_idx].zero_()
        self.found = len(vectors)
        log.info("%s: %d of %d tokens found in %s", self.where, self.found, len(self.tokens), self.pretrained)


def read_glove(path: Path, tokens: list[str], dim: int, *, where: str) -> dict[int, torch.Tensor]:
    """{token id: vector} for the tokens in `path` (GloVe text: `token v1 ... v_dim` per line).

    Only the lines of tokens in the vocabulary are parsed, so a 400k-word file is read in seconds. A word2vec
    header line (`count dim`) is skipped. Exact matches win over lower-cased ones.
    """
    if not path.is_file():
        raise DataError(f"{where}: pretrained vectors file {str(path)!r} not found; give the path of a GloVe-format "
                        "text file (one `token v1 v2 ...` per line), or remove `pretrained`")
    ids = {token: i for i, token in enumerate(tokens)}
    lowered: dict[str, int] = {}
    for i, token in enumerate(tokens):
        lowered.setdefault(token.lower(), i)
    exact: dict[int, torch.Tensor] = {}
    loose: dict[int, torch.Tensor] = {}
    first = True
    with path.open(encoding="utf-8", errors="replace") as lines:
        for number, line in enumerate(lines, start=1):
            parts = line.rstrip().split(" ")
            if len(parts) < 2 or (number == 1 and len(parts) == 2 and all(p.isdigit() for p in parts)):
                continue  # a blank line, or a word2vec text header ("400000 50")
            # a longer line may be a token with spaces ("a gripping 4 4"); on the first line, one whose second field
            # is a number is a vector of another size
            if len(parts) <= dim or (first and len(parts) - 1 != dim and _is_number(parts[1])):
                raise DataError(f"{where}: {path}, line {number} holds a {len(parts) - 1}-dimensional vector, but "
                                f"the embedding has dim {dim}; set embedding.dim: {len(parts) - 1}")
            first = False
            token = " ".join(parts[:-dim])  # a few GloVe tokens contain spaces: the vector is the last `dim` fields
            target, index = (exact, ids.get(token)) if token in ids else (loose, lowered.get(token.lower()))
            if index is None or index in target:
                continue
            try:
                target[index] = torch.tensor([float(v) for v in parts[-dim:]])
            except ValueError:
                raise DataError(f"{where}: {path}, line {number}: the vector of {token!r} is not all numbers; "
                                "is this a GloVe-format text file?") from None
    return {**{i: v for i, v in loose.items() if i not in exact}, **exact}


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
