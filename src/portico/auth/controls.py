"""Everything issue 3 adds to the gateway, built once from Settings: store, journal writer,
key resolver, limiter, price catalog and the three stages, with start/stop hooks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter
from pydantic import SecretStr

from portico.auth.keys import KeyManager
from portico.auth.resolver import KeyResolver
from portico.auth.stage import ModelPermissionStage
from portico.errors import PorticoError
from portico.limits.admission import AdmissionStage
from portico.limits.limiter import Limiter
from portico.limits.memory import MemoryLimiter
from portico.limits.prices import ModelPrice, PriceCatalog, settings_catalog
from portico.limits.redis import RedisLimiter
from portico.limits.settings import LimitsSettings
from portico.storage.accounting import AccountingStage
from portico.storage.maintenance import Maintenance
from portico.storage.recorder import Recorder
from portico.storage.records import RequestRecord
from portico.storage.settings import StorageSettings
from portico.storage.sql import SqlStore
from portico.storage.store import Store


def build_limiter(settings: LimitsSettings, store: Store | None, *, unavailable: Counter | None = None) -> Limiter:
    async def spent(scope: str, since: float) -> float:
        if store is None:
            return 0.0
        kind, _, scope_id = scope.partition(":")
        return await store.spent("team" if kind == "team" else "key", scope_id, since)

    if settings.backend == "memory":
        return MemoryLimiter(window_s=settings.window_s, lease_s=settings.lease_s, spend_loader=spent)
    from redis.asyncio import Redis

    client = Redis.from_url(
        settings.redis_url,
        socket_timeout=settings.redis_timeout_s,
        socket_connect_timeout=settings.redis_timeout_s,
    )
    return RedisLimiter(
        client,
        prefix=settings.key_prefix,
        window_s=settings.window_s,
        lease_s=settings.lease_s,
        fail_open=settings.fail_open,
        spend_loader=spent,
        on_unavailable=(lambda mode: unavailable.labels(mode=mode).inc()) if unavailable is not None else None,
    )


def _embedding_price(settings: Any) -> dict[str, ModelPrice]:
    emb = getattr(settings, "embeddings", None)
    if emb is None or not emb.enabled:
        return {}
    return {emb.model_name: ModelPrice(emb.price.input_per_mtok, emb.price.output_per_mtok)}


class Controls:
    """Keys, limits, budgets, ledger and audit. Call ``await start()`` before serving and
    ``await stop()`` after (stop flushes the journal into the database)."""

    def __init__(
        self,
        *,
        storage: StorageSettings,
        limits: LimitsSettings,
        master_key: SecretStr | None,
        models: Sequence[Any] = (),
        extra_prices: Mapping[str, ModelPrice] | None = None,
        catalog: PriceCatalog | None = None,
        registry: CollectorRegistry | None = None,
        store: Store | None = None,
    ) -> None:
        self.storage_settings = storage
        self.limits_settings = limits
        self.store: Store = store or SqlStore(storage)
        self.recorder = Recorder(self.store, storage)
        self.maintenance = Maintenance(self.store, storage.maintenance_interval_s)
        self.resolver = KeyResolver(self.store, ttl_s=storage.key_cache_seconds)
        self.keys = KeyManager(self.store, self.resolver)
        self.limiter_unavailable = Counter(
            "portico_limiter_unavailable",
            "Admissions/settles that could not reach the shared limiter, by fail mode.",
            ["mode"],
            registry=registry if registry is not None else CollectorRegistry(),
        )
        self.limiter = build_limiter(limits, self.store, unavailable=self.limiter_unavailable)
        self.catalog = catalog or PriceCatalog.build(models, extra_file=limits.prices_file, fixed=extra_prices)
        self.master_key = master_key
        self.permission = ModelPermissionStage()
        self.admission = AdmissionStage(
            self.limiter,
            self.catalog,
            configured_models=[*(m.name for m in models), *(extra_prices or {})],
            chars_per_token=limits.chars_per_token,
            default_max_tokens=limits.default_max_tokens,
        )
        # Outermost stage: starts the controls on first use when no lifespan did (ASGI test clients).
        self.accounting = AccountingStage(
            self.recorder, self.catalog, store_prompts=storage.store_prompts, ensure_started=self.start
        )
        self._started = False
        self._start_lock: asyncio.Lock | None = None

    @classmethod
    def from_settings(
        cls, settings: Any, *, registry: CollectorRegistry | None = None, prices: PriceCatalog | None = None
    ) -> Controls:
        """From portico.config.Settings (its ``storage``, ``limits``, ``auth`` and ``models``)."""
        return cls(
            storage=getattr(settings, "storage", None) or StorageSettings(),
            limits=getattr(settings, "limits", None) or LimitsSettings(),
            master_key=settings.auth.master_key,
            models=settings.models,
            extra_prices=_embedding_price(settings),
            catalog=prices or settings_catalog(settings),
            registry=registry,
        )

    async def record_refusal(self, request_id: str, where: str, error: PorticoError) -> None:
        """Audit a request the door refused (401 / 403) before it reached the chain."""
        await self.start()
        await self.recorder.record(
            RequestRecord(
                request_id=request_id,
                ts=time.time(),
                record_id=f"refused-{request_id}-{time.monotonic_ns():x}",
                route_reason=where,
                status=error.status,
                error_code=error.code,
                billable=False,
            )
        )

    async def start(self) -> None:
        """Migrate the database, replay journals of dead processes, start the batch writer (once)."""
        if self._started:
            return
        if self._start_lock is None:
            self._start_lock = asyncio.Lock()
        async with self._start_lock:
            if not self._started:
                await self.store.start()
                await self.maintenance.start()
                await self.recorder.start()
                self._started = True

    async def stop(self) -> None:
        if self._started:
            await self.maintenance.stop()
            await self.recorder.stop()
            self._started = False
        await self.limiter.close()
        await self.store.close()
