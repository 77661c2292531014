"""Local sentence embeddings (all-MiniLM-L6-v2, int8 ONNX), batched, no torch."""

from portico.embeddings.minilm import EMBEDDING_DIM, MiniLMEmbedder

__all__ = ["EMBEDDING_DIM", "MiniLMEmbedder"]
