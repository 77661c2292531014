"""The rules policy: conditions on the request mapped to models, first match wins."""

from __future__ import annotations

import re

from portico.errors import ConfigError
from portico.pipeline import RequestContext
from portico.providers.base import approx_tokens
from portico.routing.features import request_text
from portico.routing.intent import Embedder, IntentClassifier
from portico.routing.route import Route
from portico.routing.settings import Condition, RulesRoute
from portico.types import ChatRequest


def has_images(req: ChatRequest) -> bool:
    for m in req.messages:
        if isinstance(m.content, list) and any(
            p.get("type") in ("image_url", "image", "input_image") for p in m.content
        ):
            return True
    return False


class RulesRouter:
    """Evaluates ``rules`` in order; the intent classifier runs only if a rule needs it."""

    def __init__(self, cfg: RulesRoute, embedder: Embedder | None = None) -> None:
        self.cfg = cfg
        self._regex = [re.compile(r.when.regex) if r.when.regex else None for r in cfg.rules]
        self._intents: IntentClassifier | None = None
        if cfg.intents:
            if embedder is None:
                raise ConfigError(f"route '{cfg.name}': intent rules need the embedder")
            self._intents = IntentClassifier.from_intents(embedder, cfg.intents, threshold=cfg.intent_threshold, k=3)

    def decide(self, ctx: RequestContext) -> Route:
        intent: list[str | None] = []  # computed at most once, lazily
        for n, rule in enumerate(self.cfg.rules):
            why = self._match(ctx, rule.when, self._regex[n], intent)
            if why is not None:
                return Route(rule.model, f"rule {n} ({why}) -> {rule.model}", None)
        return Route(self.cfg.default, f"rules: no match -> {self.cfg.default}", None)

    def _match(
        self, ctx: RequestContext, c: Condition, regex: re.Pattern[str] | None, intent: list[str | None]
    ) -> str | None:
        """A short description of why ``c`` holds, or None if it does not."""
        req = ctx.request
        parts: list[str] = []
        if c.min_prompt_tokens is not None or c.max_prompt_tokens is not None:
            tokens = approx_tokens(req.prompt_text())
            if c.min_prompt_tokens is not None and tokens < c.min_prompt_tokens:
                return None
            if c.max_prompt_tokens is not None and tokens > c.max_prompt_tokens:
                return None
            parts.append(f"tokens={tokens}")
        if c.has_tools is not None:
            if bool(req.tools) != c.has_tools:
                return None
            parts.append(f"tools={c.has_tools}")
        if c.has_images is not None:
            if has_images(req) != c.has_images:
                return None
            parts.append(f"images={c.has_images}")
        if c.response_format is not None:
            fmt = (req.response_format or {}).get("type", "text")
            if fmt != c.response_format:
                return None
            parts.append(f"format={fmt}")
        if c.team is not None:
            if ctx.caller.team_id != c.team:
                return None
            parts.append(f"team={c.team}")
        for key, value in c.metadata.items():
            if str(ctx.caller.metadata.get(key)) != value:
                return None
            parts.append(f"{key}={value}")
        if regex is not None:
            if regex.search(request_text(req)) is None:
                return None
            parts.append("regex")
        if c.intent is not None:
            if not intent:
                assert self._intents is not None  # guaranteed by RulesRoute validation
                intent.append(self._intents.classify([request_text(req)])[0].intent)
            if intent[0] != c.intent:
                return None
            parts.append(f"intent={c.intent}")
        return " ".join(parts) or "always"
