"""What may be cached for one request: settings, per model / key rules and the request header."""

from __future__ import annotations

from dataclasses import dataclass, replace

from portico.cache.settings import CacheSettings, Tier
from portico.errors import InvalidRequest
from portico.pipeline import RequestContext
from portico.types import ChatRequest

HEADER = "x-portico-cache"
GROUP_HEADER = "x-portico-cache-group"
_DIRECTIVES = frozenset({"no-store", "no-cache", "only-if-cached"})
MAX_GROUP_CHARS = 64


@dataclass(frozen=True, slots=True)
class Directives:
    """The per-request header: no-store (never store the answer), no-cache (never serve from
    cache, still store), only-if-cached (serve from cache or fail with 504)."""

    no_store: bool = False
    no_cache: bool = False
    only_if_cached: bool = False
    group: str | None = None  # x-portico-cache-group: the answer group a stored answer joins

    @classmethod
    def of(cls, headers: dict[str, str]) -> Directives:
        """Both cache request headers, validated (a bad value is the client's 400)."""
        parsed = cls.parse(headers.get(HEADER))
        group = parse_group(headers.get(GROUP_HEADER))
        return parsed if group is None else replace(parsed, group=group)

    @classmethod
    def parse(cls, value: str | None) -> Directives:
        if not value:
            return cls()
        names = {part.strip().lower() for part in value.split(",") if part.strip()}
        unknown = names - _DIRECTIVES
        if unknown:
            raise InvalidRequest(
                f"unknown {HEADER} directive {sorted(unknown)[0]!r}; use no-store, no-cache or only-if-cached",
                param=HEADER,
            )
        return cls("no-store" in names, "no-cache" in names, "only-if-cached" in names)


def parse_group(value: str | None) -> str | None:
    """An operator's group name: 1-64 printable ASCII characters (spaces inside allowed).
    It names a class of the group model, so it is kept short and loggable."""
    if value is None:
        return None
    name = value.strip()
    if not name or len(name) > MAX_GROUP_CHARS or not (name.isascii() and name.isprintable()):
        raise InvalidRequest(
            f"{GROUP_HEADER} must be 1-{MAX_GROUP_CHARS} printable ASCII characters, e.g. 'refunds'",
            param=GROUP_HEADER,
        )
    return name


@dataclass(frozen=True, slots=True)
class Policy:
    """The cache behaviour resolved for one request."""

    tier: Tier
    ttl_seconds: float
    verifier_threshold: float
    cache_sampled: bool


def resolve(settings: CacheSettings, ctx: RequestContext) -> Policy:
    """Section defaults, overridden by the model's rule, then by the key's rule."""
    tier: Tier = settings.tier if settings.enabled else "off"
    ttl = settings.ttl_seconds
    threshold = settings.semantic.verifier_threshold
    sampled = settings.cache_sampled
    for rule in (settings.models.get(ctx.model), settings.keys.get(ctx.caller.key_id or "")):
        if rule is None:
            continue
        if rule.tier is not None:
            tier = rule.tier
        if rule.enabled is False:
            tier = "off"
        elif rule.enabled and tier == "off":
            tier = "exact" if settings.tier == "off" else settings.tier
        ttl = rule.ttl_seconds or ttl
        threshold = rule.verifier_threshold if rule.verifier_threshold is not None else threshold
        sampled = rule.cache_sampled if rule.cache_sampled is not None else sampled
    if tier == "semantic" and not settings.semantic.enabled:
        tier = "exact"
    return Policy(tier, ttl, threshold, sampled)


def is_safe(request: ChatRequest, policy: Policy, settings: CacheSettings) -> bool:
    """Only deterministic answers are reused: temperature 0 (unset means the provider's default,
    usually 1) unless sampled answers are opted in; never several choices unless asked."""
    if request.n > 1 and not settings.cache_multiple_choices:
        return False
    return request.temperature == 0 or policy.cache_sampled
