"""Language models: token ids (B, T) -> next-token logits (B, T, vocab), and decoding with a cache.

Each model registers in `LANGUAGE_MODELS` under its config name; every model has `vocab_size`, `context`,
`forward(ids, cache=None)` and `new_cache(batch_size)`, which is all `generate` needs.

    model = LANGUAGE_MODELS.get("transformer")(vocab_size=65, context=256, d_model=128, layers=2)
    new_ids = generate(model, prompt, 100, temperature=0.8, top_p=0.9)   # (B, 100)
"""

from deepscope.models.language import lstm, transformer  # noqa: F401  (registration)
from deepscope.models.language.cache import KVCache, RecurrentState
from deepscope.models.language.lstm import LSTMLanguageModel
from deepscope.models.language.options import LANGUAGE_MODELS, LSTMLMOptions, TransformerLMOptions
from deepscope.models.language.sampling import ContextWindow, filter_logits, generate, sample
from deepscope.models.language.transformer import CausalTransformer

__all__ = ["LANGUAGE_MODELS", "CausalTransformer", "LSTMLanguageModel", "TransformerLMOptions", "LSTMLMOptions",
           "KVCache", "RecurrentState", "ContextWindow", "filter_logits", "generate", "sample"]
