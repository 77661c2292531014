"""The ensemble policy: N models (or N samples of one) answer; majority vote on normalised
answers, or a judge model picks the best. Agreement is reported."""

from __future__ import annotations

import asyncio
import re
from collections import Counter

from portico.errors import PorticoError
from portico.pipeline import RequestContext
from portico.routing.calls import CallLog
from portico.routing.route import CostFn, ModelCaller
from portico.routing.settings import EnsembleRoute
from portico.types import ChatMessage, ChatRequest, ChatResponse

JUDGE_PROMPT = (
    "Several assistants answered the same request. Pick the best answer.\n\n"
    "REQUEST:\n{question}\n\n{answers}\n\n"
    "Reply with the number of the best answer only."
)
_GSM_ANSWER = re.compile(r"####\s*(-?[\d,]*\.?\d+)")
_CHOICE = re.compile(r"^\s*\(?([A-J])\)?(?:[.):\s]|$)")
_ANSWER_IS = re.compile(r"answer is\s*:?\s*\(?([A-J]|-?[\d,]*\.?\d+)\)?", re.IGNORECASE)
_NUMBER = re.compile(r"-?[\d,]*\.?\d+")
_NON_WORD = re.compile(r"[^\w\s]")


def normalise_answer(text: str) -> str:
    """A canonical form for voting: a final number, a choice letter, or folded text."""
    for pattern in (_GSM_ANSWER, _ANSWER_IS):
        m = pattern.search(text)
        if m:
            return str(m.group(1)).replace(",", "").rstrip(".").upper()
    m = _CHOICE.match(text)
    if m and len(text.strip()) <= 40:
        return str(m.group(1))
    folded = " ".join(_NON_WORD.sub(" ", text.lower()).split())
    numbers = _NUMBER.findall(text)
    if numbers and len(folded.split()) > 12:  # a worked solution: its last number is the answer
        return str(numbers[-1]).replace(",", "").rstrip(".")
    return folded


class EnsemblePolicy:
    def __init__(self, cfg: EnsembleRoute, call_model: ModelCaller, cost_of: CostFn) -> None:
        self.cfg = cfg
        self.call_model = call_model
        self.cost_of = cost_of

    async def run(self, ctx: RequestContext) -> ChatResponse:
        log = CallLog(self.cost_of)
        plan = [m for m in self.cfg.models for _ in range(self.cfg.samples)]
        update: dict[str, object] = {"stream": False, "stream_options": None}
        if self.cfg.samples > 1 and ctx.request.temperature in (None, 0):
            update["temperature"] = 0.7  # N samples of one model must differ to be worth a vote
        results = await asyncio.gather(
            *(self.call_model(ctx, m, ctx.request.model_copy(update={**update, "model": m})) for m in plan),
            return_exceptions=True,
        )
        answers: list[tuple[str, ChatResponse]] = []
        errors: list[BaseException] = []
        for model, result in zip(plan, results, strict=True):
            if isinstance(result, BaseException):
                errors.append(result)
            else:
                log.add(model, "member", result)
                answers.append((model, result))
        if not answers:
            first = errors[0]
            if isinstance(first, PorticoError | asyncio.CancelledError):
                raise first
            raise PorticoError(f"every ensemble member of route '{self.cfg.name}' failed") from first
        norms = [normalise_answer(r.text) for _, r in answers]
        votes = Counter(norms)
        if self.cfg.aggregate == "judge" and len(answers) > 1:
            pick = await self._judge(ctx, [r for _, r in answers], log)
        else:
            top = votes.most_common(1)[0][0]
            pick = norms.index(top)  # ties go to the earliest member (config order)
        agreement = votes[norms[pick]] / len(answers)
        model, chosen = answers[pick]
        ctx.route_reason = (
            f"ensemble {self.cfg.aggregate} {len(answers)}/{len(plan)} answers, agreement={agreement:.2f} -> {model}"
        )
        log.settle(
            ctx,
            model,
            {
                "policy": "ensemble",
                "route": self.cfg.name,
                "aggregate": self.cfg.aggregate,
                "agreement": agreement,
                "answers": len(answers),
                "failed": len(errors),
            },
        )
        ctx.response_headers["x-portico-agreement"] = f"{agreement:.2f}"
        return chosen

    async def _judge(self, ctx: RequestContext, responses: list[ChatResponse], log: CallLog) -> int:
        assert self.cfg.judge is not None  # EnsembleRoute validation
        answers = "\n\n".join(f"ANSWER {i + 1}:\n{r.text}" for i, r in enumerate(responses))
        prompt = JUDGE_PROMPT.format(question=ctx.request.last_user_text(), answers=answers)
        req = ChatRequest(
            model=self.cfg.judge,
            messages=[ChatMessage(role="user", content=prompt)],
            max_tokens=5,
            temperature=0,
        )
        reply = await self.call_model(ctx, self.cfg.judge, req)
        log.add(self.cfg.judge, "judge", reply)
        m = re.search(r"\d+", reply.text)
        choice = int(m.group()) - 1 if m else 0
        return choice if 0 <= choice < len(responses) else 0
