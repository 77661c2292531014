"""POST /v1/moderations in OpenAI's shape, answered by the content and injection classifiers.

The content classifier scores five of OpenAI's categories (hate, harassment, self-harm,
sexual, violence) at the thresholds the content guard uses. OpenAI's sub-categories
(``hate/threatening``, ``self-harm/intent``, ...) and ``illicit`` are not classified: they
are reported false with score 0. Prompt injection (rules + classifier, the injection
guard's threshold) is an extra category, ``prompt_injection``, and counts toward ``flagged``.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from portico.errors import InvalidRequest
from portico.feature import HEADERS_KEY, Access, Feature, Route
from portico.guards.injection_rules import match_rules
from portico.guards.runtime import EmbedderSource, GuardRuntime
from portico.server.asgi import Receive, Scope, Send, parse_json_object, read_body, send_json

MODEL = "portico-moderation"
OPENAI_CATEGORIES = (
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/instructions",
    "self-harm/intent",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
)
OURS = {
    "hate": "hate",
    "harassment": "harassment",
    "self_harm": "self-harm",
    "sexual": "sexual",
    "violence": "violence",
}
INJECTION = "prompt_injection"
MAX_INPUTS = 256


def moderation_texts(value: Any) -> list[str]:
    """A string, a list of strings, or a list of multimodal parts (text parts only)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        if len(value) > MAX_INPUTS:
            raise InvalidRequest(f"At most {MAX_INPUTS} inputs per request.", param="input")
        return list(value)
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        if any(v.get("type") != "text" for v in value):
            raise InvalidRequest(
                "Only text inputs can be moderated here; image inputs are not supported.",
                param="input",
                code="unsupported_content",
            )
        return ["\n".join(str(v.get("text", "")) for v in value)]
    raise InvalidRequest("'input' must be a string or a list of strings.", param="input")


class Moderator:
    def __init__(self, runtime: GuardRuntime) -> None:
        self.runtime = runtime

    def moderate(self, texts: list[str]) -> list[dict[str, Any]]:
        content = self.runtime.content_model
        content_scores, _ = self.runtime.content_cascade_scores(texts)
        content_thresholds = self.runtime.content_cascade.thresholds
        injection_scores, _ = self.runtime.injection_cascade_scores(texts)
        results = []
        for i, text in enumerate(texts):
            scores = dict.fromkeys(OPENAI_CATEGORIES, 0.0)
            flags = dict.fromkeys(OPENAI_CATEGORIES, False)
            for j, label in enumerate(content.labels):
                name = OURS.get(label)
                if name is not None:
                    scores[name] = round(float(content_scores[i, j]), 6)
                    flags[name] = scores[name] >= content_thresholds[label]
            inj = float(injection_scores[i])
            scores[INJECTION] = round(inj, 6)
            flags[INJECTION] = bool(match_rules(text)) or inj >= self.runtime.injection_cascade.thresholds["injection"]
            results.append(
                {
                    "flagged": any(flags.values()),
                    "categories": flags,
                    "category_scores": scores,
                    "category_applied_input_types": {name: ["text"] for name in [*OPENAI_CATEGORIES, INJECTION]},
                }
            )
        return results


def moderation_feature(runtime: GuardRuntime, embedder: EmbedderSource | None = None) -> Feature:
    """``embedder`` is the gateway's (``Gateway.embedder``), attached to ``runtime`` on the
    first request so the second stages never load a MiniLM session of their own."""
    endpoint = ModerationEndpoint(runtime, embedder)
    return Feature("moderation", routes=(Route("POST", "/v1/moderations", endpoint, Access.KEY),))


class ModerationEndpoint:
    """The route handler; the guard models load on the first request (or share the guards')."""

    def __init__(self, runtime: GuardRuntime, embedder: EmbedderSource | None = None) -> None:
        self.moderator = Moderator(runtime)
        self._embedder = embedder

    async def __call__(self, gateway: Any, scope: Scope, receive: Receive, send: Send) -> None:
        headers = scope[HEADERS_KEY]
        data = parse_json_object(await read_body(receive, headers, gateway.settings.server.max_body_bytes))
        if "input" not in data:
            raise InvalidRequest("Missing required parameter 'input'.", param="input")
        texts = moderation_texts(data["input"])
        if self._embedder is not None and not self.moderator.runtime.has_embedder:
            self.moderator.runtime.attach_embedder(await self._embedder())
        results = await asyncio.to_thread(self.moderator.moderate, texts)
        model = data.get("model") if isinstance(data.get("model"), str) else MODEL
        await send_json(send, 200, {"id": "modr-" + uuid.uuid4().hex, "model": model, "results": results})
