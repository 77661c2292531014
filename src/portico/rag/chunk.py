"""Token-sized, sentence-aware chunks with overlap.

Sentences are packed whole until the next one would pass ``max_tokens``; the next chunk
starts with the last sentences of the previous one, up to ``overlap_tokens``. A sentence
longer than a chunk is cut into word windows. Tokens are the embedder's word pieces, so a
chunk of at most 256 of them is embedded whole by MiniLM.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from portico.errors import InvalidRequest

TokenCounter = Callable[[Sequence[str]], list[int]]
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])|\n")


@dataclass(slots=True, frozen=True)
class ChunkingStrategy:
    max_tokens: int
    overlap_tokens: int

    def __post_init__(self) -> None:
        if not 32 <= self.max_tokens <= 4096:
            raise InvalidRequest(
                "max_chunk_size_tokens must be between 32 and 4096.", param="chunking_strategy.max_chunk_size_tokens"
            )
        if not 0 <= self.overlap_tokens <= self.max_tokens // 2:
            raise InvalidRequest(
                "chunk_overlap_tokens must be between 0 and half of max_chunk_size_tokens.",
                param="chunking_strategy.chunk_overlap_tokens",
            )

    def public(self) -> dict[str, object]:
        return {
            "type": "static",
            "static": {"max_chunk_size_tokens": self.max_tokens, "chunk_overlap_tokens": self.overlap_tokens},
        }


@lru_cache(maxsize=1)
def _wordpiece() -> object:
    from tokenizers import Tokenizer

    path = Path(__file__).parents[1] / "embeddings" / "data" / "minilm_tokenizer.json"
    tok = Tokenizer.from_file(str(path))
    tok.no_truncation()
    tok.no_padding()
    return tok


def wordpiece_counter(texts: Sequence[str]) -> list[int]:
    """Word pieces per text, as MiniLM counts them (without [CLS]/[SEP])."""
    tok = _wordpiece()
    encodings = tok.encode_batch(list(texts), add_special_tokens=False)  # type: ignore[attr-defined]
    return [len(e.ids) for e in encodings]


def split_sentences(text: str) -> list[str]:
    out: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        out.extend(s.strip() for s in _SENTENCE_END.split(paragraph) if s and s.strip())
    return out


def _windows(sentence: str, tokens: int, max_tokens: int) -> list[str]:
    words = sentence.split()
    per = max(1, int(len(words) * max_tokens / max(tokens, 1) * 0.9))
    return [" ".join(words[i : i + per]) for i in range(0, len(words), per)]


def chunk_text(text: str, strategy: ChunkingStrategy, count: TokenCounter = wordpiece_counter) -> list[str]:
    sentences = split_sentences(text)
    if not sentences:
        return []
    sizes = count(sentences)
    pieces: list[tuple[str, int]] = []
    for sentence, size in zip(sentences, sizes, strict=True):
        if size <= strategy.max_tokens:
            pieces.append((sentence, size))
        else:
            parts = _windows(sentence, size, strategy.max_tokens)
            pieces.extend(zip(parts, count(parts), strict=True))
    chunks: list[str] = []
    current: list[tuple[str, int]] = []
    total = 0
    for piece in pieces:
        if current and total + piece[1] > strategy.max_tokens:
            chunks.append(" ".join(p for p, _ in current))
            carry: list[tuple[str, int]] = []
            carried = 0
            for prev in reversed(current[1:]):  # always drop at least one sentence: progress
                if carried + prev[1] > strategy.overlap_tokens or carried + prev[1] + piece[1] > strategy.max_tokens:
                    break
                carry.insert(0, prev)
                carried += prev[1]
            current, total = carry, carried
        current.append(piece)
        total += piece[1]
    if current:
        chunks.append(" ".join(p for p, _ in current))
    return chunks
