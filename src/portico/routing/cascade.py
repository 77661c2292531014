"""The cascade policy: ask the fast model first, escalate to the strong one when the answer
fails a confidence check (mean token logprob, regex, JSON schema, self-check, length, the
answer-signal doubt model of ``answer_signals``)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema

from portico.pipeline import RequestContext
from portico.routing.answer_signals import AnswerDoubt
from portico.routing.calls import CallLog
from portico.routing.route import CostFn, ModelCaller
from portico.routing.settings import CascadeCheck, CascadeRoute
from portico.types import ChatMessage, ChatRequest, ChatResponse

SELF_CHECK_PROMPT = (
    "Here is a request and an answer to it.\n\nREQUEST:\n{question}\n\nANSWER:\n{answer}\n\n"
    "Is the answer correct and complete? Reply with exactly one word: YES or NO."
)


def mean_logprob(response: ChatResponse) -> float | None:
    """Mean token logprob of the first choice (OpenAI ``logprobs.content``), None if absent."""
    if not response.choices:
        return None
    lp: Any = response.choices[0].logprobs
    content = lp.get("content") if isinstance(lp, dict) else getattr(lp, "content", None)
    values = [t.get("logprob") if isinstance(t, dict) else getattr(t, "logprob", None) for t in content or []]
    numbers = [float(v) for v in values if isinstance(v, int | float)]
    return sum(numbers) / len(numbers) if numbers else None


class CascadePolicy:
    def __init__(self, cfg: CascadeRoute, call_model: ModelCaller, cost_of: CostFn) -> None:
        self.cfg = cfg
        self.call_model = call_model
        self.cost_of = cost_of
        self._regex = re.compile(cfg.check.regex) if cfg.check.regex else None
        self._validator = (
            jsonschema.Draft202012Validator(cfg.check.json_schema) if cfg.check.json_schema is not None else None
        )
        self._doubt = None
        if cfg.check.max_answer_doubt is not None:
            artifact = cfg.check.doubt_artifact
            self._doubt = AnswerDoubt.load(Path(artifact) if artifact else None)

    async def run(self, ctx: RequestContext) -> ChatResponse:
        log = CallLog(self.cost_of)
        fast_req = ctx.request.model_copy(update={"model": self.cfg.fast, "stream": False, "stream_options": None})
        if self.cfg.check.min_mean_logprob is not None:
            fast_req = fast_req.model_copy(update={"logprobs": True})
        first = await self.call_model(ctx, self.cfg.fast, fast_req)
        log.add(self.cfg.fast, "fast", first)
        passed, why = await self._check(ctx, self.cfg.check, first, log)
        if passed:
            ctx.route_reason = f"cascade {self.cfg.fast} accepted ({why})"
            log.settle(
                ctx,
                self.cfg.fast,
                {"policy": "cascade", "route": self.cfg.name, "escalated": False, "check": why},
            )
            return first
        strong_req = ctx.request.model_copy(update={"model": self.cfg.strong, "stream": False, "stream_options": None})
        final = await self.call_model(ctx, self.cfg.strong, strong_req)
        log.add(self.cfg.strong, "strong", final)
        ctx.route_reason = f"cascade {self.cfg.fast} rejected ({why}) -> {self.cfg.strong}"
        log.settle(
            ctx,
            self.cfg.strong,
            {"policy": "cascade", "route": self.cfg.name, "escalated": True, "check": why},
        )
        return final

    async def _check(
        self, ctx: RequestContext, check: CascadeCheck, response: ChatResponse, log: CallLog
    ) -> tuple[bool, str]:
        """(passed, a short reason). Checks run cheapest first; the first failure decides."""
        text = response.text
        if check.min_length is not None and len(text.strip()) < check.min_length:
            return False, f"length {len(text.strip())}<{check.min_length}"
        if self._regex is not None and self._regex.search(text) is None:
            return False, "regex no match"
        if self._validator is not None:
            try:
                self._validator.validate(json.loads(text))
            except (ValueError, jsonschema.ValidationError) as exc:
                return False, "json_schema: " + str(exc).splitlines()[0][:80]
        if self._doubt is not None and check.max_answer_doubt is not None:
            doubt = self._doubt.doubt(ctx.request.last_user_text() or "", text)
            if doubt >= check.max_answer_doubt:
                return False, f"answer doubt {doubt:.2f}>={check.max_answer_doubt:.2f}"
        if check.min_mean_logprob is not None:
            lp = mean_logprob(response)
            if lp is None:
                return False, "no logprobs"
            if lp < check.min_mean_logprob:
                return False, f"logprob {lp:.2f}<{check.min_mean_logprob:.2f}"
        if check.self_check:
            verdict = await self._self_check(ctx, response, log)
            if not verdict:
                return False, "self-check NO"
        return True, "checks passed"

    async def _self_check(self, ctx: RequestContext, response: ChatResponse, log: CallLog) -> bool:
        prompt = SELF_CHECK_PROMPT.format(question=ctx.request.last_user_text(), answer=response.text)
        req = ChatRequest(
            model=self.cfg.fast,
            messages=[ChatMessage(role="user", content=prompt)],
            max_tokens=3,
            temperature=0,
        )
        reply = await self.call_model(ctx, self.cfg.fast, req)
        log.add(self.cfg.fast, "self_check", reply)
        return reply.text.strip().upper().startswith("YES")
