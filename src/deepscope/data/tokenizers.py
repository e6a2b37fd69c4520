"""Tokenizers for text features: characters, words, or subwords (BPE / WordPiece via Hugging Face `tokenizers`).

Every tokenizer maps a text to token ids with the same two reserved ids: 0 = `<pad>`, 1 = `<unk>`.
It is trained on the training split only and saves itself as plain JSON (a token list, or for subwords the
Hugging Face tokenizer's own JSON string), so that prediction tokenizes exactly as training did.

    tokenizer = train_tokenizer("word", ["a gripping film .", "a dull film"], vocab_size=100, min_frequency=1)
    tokenizer.encode_batch(["a funny film"])    # [[2, 1, 3]]  ("funny" was never seen: 1 = <unk>)
    load_tokenizer("word", tokenizer.state())   # the same tokenizer, from JSON

Words are found with one regular expression (`split_words`), the same at training and at prediction, and
also for BPE / WordPiece, which split those words further. It keeps Penn Treebank conventions, so that
raw text ("isn't it?") and pre-tokenised corpora such as SST-2 ("is n't it ?") give the same tokens.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import Any, Protocol

PAD, UNK, EOS = "<pad>", "<unk>", "</s>"
PAD_ID, UNK_ID, EOS_ID = 0, 1, 2
SPECIAL_TOKENS = [PAD, UNK]
SEQUENCE_SPECIAL_TOKENS = [PAD, UNK, EOS]  # a text to write also needs its end (and the decoder's start)
SUBWORD_PREFIX = "##"  # marks a piece that continues a word, so "film" and the "film" of "filmmaker" differ

WORD_PATTERN = re.compile(
    r"""
      \w+(?=n't\b)                    # "do" of "don't": the negation is its own token, as in the Penn Treebank
    | n't\b                           # "n't"
    | '(?:s|re|ve|ll|d|m|em)\b        # clitics: "'s", "'re", "'ve", "'ll", "'d", "'m", "'em"
    | \d+(?:[.,:/]\d+)+                # numbers with a point or separator: "3.5", "1,000", "2:30", "4/5"
    | \w+(?:[-/]\w+)*                 # words, numbers, hyphenated words: "well-acted", "90-minute", "and/or"
    | ([^\w\s])\1*                    # punctuation; a run of one mark stays whole ("--", "...", "``", "!!!")
    """,
    re.VERBOSE,
)


def split_words(text: str) -> list[str]:
    """Words and punctuation marks of `text`, in order.

    Example:
        >>> split_words("It's a gripping, funny film -- isn't it?")
        ['It', "'s", 'a', 'gripping', ',', 'funny', 'film', '--', 'is', "n't", 'it', '?']
    """
    return [match.group(0) for match in WORD_PATTERN.finditer(text)]


def split_chars(text: str) -> list[str]:
    """Every character, spaces included (they mark word boundaries for a character model)."""
    return list(text)


SPLITTERS = {"char": split_chars, "word": split_words}


class Tokenizer(Protocol):
    tokens: list[str]  # id -> token string

    def encode_batch(self, texts: list[str]) -> list[list[int]]: ...

    def state(self) -> dict[str, Any]: ...


class VocabularyTokenizer:
    """Characters or words looked up in a fitted vocabulary; anything else is `<unk>`."""

    def __init__(self, kind: str, tokens: list[str]):
        self.kind, self.tokens = kind, list(tokens)
        self.split = SPLITTERS[kind]
        self.index = {token: i for i, token in enumerate(self.tokens)}

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        index, split = self.index, self.split
        return [[index.get(token, UNK_ID) for token in split(text)] for text in texts]

    def state(self) -> dict[str, Any]:
        return {"tokens": self.tokens}


class SubwordTokenizer:
    """A trained Hugging Face BPE or WordPiece model over the words of `split_words`."""

    def __init__(self, hf_tokenizer: Any):
        self.hf = hf_tokenizer
        self.tokens = [self.hf.id_to_token(i) for i in range(self.hf.get_vocab_size())]

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        # our word split, in Python, is the pre-tokenizer (as in training): the same words for all four tokenizers
        joined = [" ".join(split_words(text)) for text in texts]
        encode = getattr(self.hf, "encode_batch_fast", self.hf.encode_batch)  # _fast (>= 0.20): no offsets, 2x
        return [encoding.ids for encoding in encode(joined)]

    def state(self) -> dict[str, Any]:
        return {"subword": self.hf.to_str()}


def train_tokenizer(kind: str, texts: list[str], *, vocab_size: int, min_frequency: int,
                    specials: list[str] = SPECIAL_TOKENS) -> Tokenizer:
    """Learn a vocabulary (or subword merges) of at most `vocab_size` tokens, specials included, from `texts`.

    Args:
        kind: "char", "word", "bpe" or "wordpiece".
        texts: the training texts, already normalised (e.g. lower-cased).
        vocab_size: the largest vocabulary, counting `<pad>` and `<unk>`; the most frequent tokens are kept.
        min_frequency: tokens (for subwords: merges) seen fewer times than this are left out.
        specials: the reserved tokens, ids 0, 1, ...: SPECIAL_TOKENS, or SEQUENCE_SPECIAL_TOKENS for a text that
            a model writes (with its end, `</s>`).

    Example:
        >>> train_tokenizer("char", ["abba"], vocab_size=10, min_frequency=1).tokens
        ['<pad>', '<unk>', 'a', 'b']
    """
    if kind in SPLITTERS:
        split = SPLITTERS[kind]
        counts = Counter(token for text in texts for token in split(text))
        kept = sorted((t for t, n in counts.items() if n >= min_frequency), key=lambda t: (-counts[t], t))
        return VocabularyTokenizer(kind, specials + kept[: vocab_size - len(specials)])
    return SubwordTokenizer(_train_subword(kind, texts, vocab_size, min_frequency, specials))


def load_tokenizer(kind: str, state: dict[str, Any]) -> Tokenizer:
    """The tokenizer that `train_tokenizer(kind, ...).state()` describes. Reads JSON only."""
    if kind in SPLITTERS:
        return VocabularyTokenizer(kind, state["tokens"])
    from tokenizers import Tokenizer as HfTokenizer

    return SubwordTokenizer(HfTokenizer.from_str(state["subword"]))


def _train_subword(kind: str, texts: Iterable[str], vocab_size: int, min_frequency: int,
                   specials: list[str]) -> Any:
    from tokenizers import Tokenizer as HfTokenizer
    from tokenizers import models, pre_tokenizers, trainers

    options = {
        "vocab_size": vocab_size, "min_frequency": min_frequency, "special_tokens": specials,
        "continuing_subword_prefix": SUBWORD_PREFIX, "show_progress": False,
    }
    if kind == "bpe":
        hf = HfTokenizer(models.BPE(unk_token=UNK, continuing_subword_prefix=SUBWORD_PREFIX))
        trainer = trainers.BpeTrainer(**options)
    elif kind == "wordpiece":
        hf = HfTokenizer(models.WordPiece(unk_token=UNK, continuing_subword_prefix=SUBWORD_PREFIX))
        trainer = trainers.WordPieceTrainer(**options)
    else:
        raise ValueError(f"unknown tokenizer {kind!r}")
    # the words are joined by single spaces and split again on them: the regex stays the one word splitter
    hf.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    hf.train_from_iterator((" ".join(split_words(text)) for text in texts), trainer)
    assert [hf.token_to_id(token) for token in specials] == list(range(len(specials)))  # specials come first
    return hf


# no space before closing marks and clitics, none after opening ones: the inverse of split_words for the usual cases
_NO_SPACE_BEFORE = re.compile(r" (?=[.,!?;:%)\]}]|n't\b|'(?:s|re|ve|ll|d|m|em)\b)")
_NO_SPACE_AFTER = re.compile(r"(?<=[(\[{]) ")


def detokenize(tokens: Iterable[str]) -> str:
    """Text from the tokens of a tokenizer: subword pieces marked `##` join the piece before them, words are
    joined by spaces, then the spaces `split_words` put around punctuation and clitics are taken out again.

    Example:
        >>> detokenize(["Ein", "Mann", "fähr", "##t", "Rad", ".", "Is", "n't", "it", "(", "red", ")", "?"])
        "Ein Mann fährt Rad. Isn't it (red)?"
    """
    words: list[str] = []
    for token in tokens:
        if token.startswith(SUBWORD_PREFIX) and words:
            words[-1] += token[len(SUBWORD_PREFIX) :]
        else:
            words.append(token)
    return _NO_SPACE_AFTER.sub("", _NO_SPACE_BEFORE.sub("", " ".join(words)))


def ids_to_text(rows: Iterable[list[int]], tokens: list[str]) -> list[str]:
    """Rows of ids a model wrote -> texts: each row read up to its first `</s>`, specials left out, detokenized."""
    first = len(SEQUENCE_SPECIAL_TOKENS)
    return [detokenize(tokens[i] for i in (row[: row.index(EOS_ID)] if EOS_ID in row else row) if i >= first)
            for row in rows]
