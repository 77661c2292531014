"""WordPiece token ids for the guard classifiers' token term.

The classifiers use a *static* embedding distilled from the packaged MiniLM (model2vec's
recipe: every vocabulary token is run through the int8 model on its own, ``[CLS] token
[SEP]``, and mean-pooled; see ``scripts/train_guards.py``), so a text's vector is the mean
of its tokens' vectors. Because the classifiers are linear, the table is folded into their
weights at training time and only the token ids are needed here: MiniLM's own tokenizer
(shipped with ``portico.embeddings``), without truncation, special tokens dropped. The
transformer pass this replaces cost 10-22 ms per text on one core; tokenizing costs about
0.1 ms at 300 tokens."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np

from portico.guards.classifier import IdArray


@functools.cache
def _tokenizer() -> Any:
    """One tokenizer per process (read-only once built, safe to share between threads)."""
    from tokenizers import Tokenizer

    from portico.embeddings.minilm import _TOKENIZER_FILE

    tokenizer = Tokenizer.from_file(str(_TOKENIZER_FILE))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def token_ids(texts: Sequence[str]) -> list[IdArray]:
    """Each text's WordPiece ids, without ``[CLS]``/``[SEP]``."""
    encodings = _tokenizer().encode_batch(list(texts), add_special_tokens=False)
    return [np.asarray(e.ids, dtype=np.int64) for e in encodings]
