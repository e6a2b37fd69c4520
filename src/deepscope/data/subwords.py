"""Learned subwords for a language model: byte-level BPE (GPT-2's scheme, Hugging Face `tokenizers`).

Every text round-trips exactly, spaces and line breaks included: the text's UTF-8 bytes are the alphabet (256
symbols, so nothing is ever unknown), and merges of frequent neighbours, learned on the training text only, make
the longer tokens. Id 0 stays `<unk>`, as in a character vocabulary, and is never produced.

    tokenizer = ByteBPE.train(train_text, vocab_size=1024)
    ids = tokenizer.encode("ROMEO:\\nWhat say you?")      # [...] ints
    tokenizer.decode(ids)                               # 'ROMEO:\\nWhat say you?'
    ByteBPE(tokenizer.state())                          # the same tokenizer, from its JSON
"""

from __future__ import annotations

from typing import Any

from deepscope.data.corpus import UNK

CHUNK = 10_000  # characters per training item: the trainer counts words within items, any cut is harmless


class ByteBPE:
    def __init__(self, state: str):
        from tokenizers import Tokenizer

        self.state_json = state
        self.hf = Tokenizer.from_str(state)
        self.tokens = [self.hf.id_to_token(i) for i in range(self.hf.get_vocab_size())]

    @classmethod
    def train(cls, text: str, *, vocab_size: int) -> ByteBPE:
        from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

        hf = Tokenizer(models.BPE())
        hf.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        hf.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[UNK], show_progress=False,
                                      initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
        hf.train_from_iterator((text[i : i + CHUNK] for i in range(0, len(text), CHUNK)), trainer)
        assert hf.token_to_id(UNK) == 0
        return cls(hf.to_str())

    def encode(self, text: str) -> list[int]:
        return self.hf.encode(text).ids

    def decode(self, ids: Any) -> str:
        return self.hf.decode([int(i) for i in ids if int(i) != 0])

    def state(self) -> str:
        return self.state_json
