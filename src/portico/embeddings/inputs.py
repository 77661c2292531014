"""What an embeddings request asks for: the model (aliases resolved), the texts, the size."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from portico.embeddings.token_ids import Cl100kDecoder, is_token_input
from portico.errors import InvalidRequest, ModelNotFound
from portico.types import EmbeddingRequest

if TYPE_CHECKING:
    from portico.config import EmbeddingSettings

NATIVE_DIMENSIONS = 384  # all-MiniLM-L6-v2


def embedding_texts(req: EmbeddingRequest, settings: EmbeddingSettings, decoder: Cl100kDecoder) -> list[str]:
    """The texts to embed; raises 404 for an unknown model and 400 for anything it cannot honour."""
    model = settings.aliases.get(req.model, req.model)
    if not settings.enabled or model != settings.model_name:
        aliases = f" (or one of its aliases: {', '.join(settings.aliases)})" if settings.aliases else ""
        raise ModelNotFound(
            f"The embedding model '{req.model}' does not exist; use '{settings.model_name}'{aliases}. "
            "Other names can be mapped to it with embeddings.aliases in portico.yaml.",
            param="model",
        )
    if req.dimensions is not None and req.dimensions != NATIVE_DIMENSIONS:
        raise InvalidRequest(
            f"'dimensions' {req.dimensions} is not supported by '{req.model}': the model makes "
            f"{NATIVE_DIMENSIONS}-dimensional vectors and was not trained to be shortened (it is not a "
            "Matryoshka model), so a truncated vector would not keep its similarities; omit 'dimensions' "
            f"or send {NATIVE_DIMENSIONS}.",
            param="dimensions",
            code="unsupported_dimensions",
        )
    texts = _texts(req.input, decoder)
    if len(texts) > settings.max_inputs:
        raise InvalidRequest(f"At most {settings.max_inputs} inputs per request.", param="input")
    if not all(texts):
        raise InvalidRequest("Every input must be non-empty.", param="input")
    return texts


def _texts(value: Any, decoder: Cl100kDecoder) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return list(value)
    if is_token_input(value):
        return decoder.texts(value)
    raise InvalidRequest(
        "'input' must be a string, a list of strings, or cl100k_base token ids (a list of integers, or a list "
        "of such lists).",
        param="input",
        code="invalid_input",
    )
