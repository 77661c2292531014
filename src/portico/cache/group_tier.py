"""The answer-group decision per scope, with the group model refitted in the background.

A scope's model is fitted once it holds ``min_entries`` stored questions and refitted when
its size has moved by ``refit_growth`` since the last fit. Fits run in a worker thread
after a store (never on the lookup path); lookups use the latest finished model.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from portico.cache.answer_groups import GroupModel, fit_group_model
from portico.cache.protocols import Candidate, ScopeListing, Vector
from portico.cache.settings import AnswerGroupSettings

log = logging.getLogger("portico.cache")


@dataclass(frozen=True, slots=True)
class GroupVerdict:
    """``served``: the stored questions of the chosen group among the nearest, nearest first
    (empty when the model declined: ``reason`` says why)."""

    group: str
    confidence: float
    threshold: float
    served: tuple[Candidate, ...]
    model: GroupModel

    @property
    def reason(self) -> str | None:
        if self.served:
            return None
        confident = self.confidence >= self.threshold and self.group in self.model.servable
        return "group_support" if confident else "answer_group"


class AnswerGroupTier:
    def __init__(self, settings: AnswerGroupSettings, store: ScopeListing) -> None:
        self.settings = settings
        self._store = store
        self._models: OrderedDict[str, GroupModel] = OrderedDict()
        self._fitted_size: dict[str, int] = {}
        self._fits: dict[str, asyncio.Task[None]] = {}

    def model(self, scope: str) -> GroupModel | None:
        found = self._models.get(scope)
        if found is not None:
            self._models.move_to_end(scope)
        return found

    def models(self) -> list[GroupModel]:
        """The fitted models, one per scope (for logs and benchmarks)."""
        return list(self._models.values())

    def decide(self, scope: str, vector: Vector, candidates: list[Candidate]) -> GroupVerdict | None:
        """None when the scope has no model yet (the pairwise judge decides)."""
        model = self.model(scope)
        if model is None:
            return None
        group, confidence = model.predict(vector)
        served: tuple[Candidate, ...] = ()
        if confidence >= model.threshold and group in model.servable:
            floor = self.settings.min_similarity
            served = tuple(c for c in candidates if c.group == group and c.similarity >= floor)
        return GroupVerdict(group, confidence, model.threshold, served, model)

    async def note_added(self, scope: str) -> None:
        """Start a background refit when the scope has grown (or shrunk) enough since the last one."""
        if scope in self._fits:
            return
        size = await self._store.size(scope)
        last = self._fitted_size.get(scope)
        if size < self.settings.min_entries:
            return
        if last is not None and abs(size - last) < self.settings.refit_growth * last:
            return
        self._fitted_size[scope] = size  # also on failure: retry only after more growth
        task = asyncio.get_running_loop().create_task(self._refit(scope))
        self._fits[scope] = task
        task.add_done_callback(lambda _: self._fits.pop(scope, None))

    async def refit(self, scope: str) -> GroupModel | None:
        """Fit ``scope`` now (after a finished background fit, if one is running)."""
        await self.settle()
        self._fitted_size[scope] = await self._store.size(scope)
        await self._refit(scope)
        return self._models.get(scope)

    async def refit_all(self) -> None:
        """Refit every scope this tier has stored into (e.g. after warming the cache)."""
        for scope in list(self._fitted_size):
            await self.refit(scope)

    async def settle(self) -> None:
        """Wait for the running background fits (benchmarks and tests want a fixed model)."""
        while self._fits:
            await asyncio.gather(*self._fits.values(), return_exceptions=True)

    async def _refit(self, scope: str) -> None:
        entries = await self._store.entries(scope)
        if len(entries) < self.settings.min_entries:
            return
        vectors = np.stack([e.vector for e in entries]).astype(np.float32, copy=False)
        groups = [e.group for e in entries]
        try:
            model = await asyncio.to_thread(fit_group_model, vectors, groups, self.settings)
        except Exception:  # a failed fit keeps the previous model serving; the next growth retries
            log.exception("answer-group fit failed for a scope of %d entries", len(entries))
            return
        if model is None:
            self._models.pop(scope, None)
            return
        self._models[scope] = model
        self._models.move_to_end(scope)
        while len(self._models) > self.settings.max_scopes:
            self._models.popitem(last=False)
        log.info(
            "answer-group model: %d entries, %d groups, threshold %.3f, held-out coverage %.3f wrong %.4f",
            model.entries,
            len(model.groups),
            model.threshold,
            model.held_out_coverage,
            model.held_out_wrong_rate,
        )

    async def aclose(self) -> None:
        for task in list(self._fits.values()):
            task.cancel()
        await asyncio.gather(*self._fits.values(), return_exceptions=True)
        self._models.clear()
