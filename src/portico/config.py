"""Typed settings, read once at start-up from ``portico.yaml`` (or ``PORTICO_CONFIG``) and passed down.

Any string value ``env:NAME`` is replaced by the environment variable ``NAME`` (absent ->
null, which e.g. leaves the master key unset: open dev mode). This module is the only
place that reads the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, SecretStr, ValidationError, model_validator

from portico.batch.settings import BatchSettings
from portico.cache.settings import CacheSettings
from portico.compress.settings import CompressionSettings
from portico.errors import ConfigError
from portico.files.settings import FilesSettings
from portico.guards.settings import GuardSettings
from portico.limits.settings import LimitsSettings
from portico.model_settings import ModelSettings, Price, ProviderKind, TimeoutSettings
from portico.observability.settings import TracingSettings
from portico.rag.settings import RagSettings
from portico.resilience.settings import ResilienceSettings
from portico.responses.settings import ResponsesSettings
from portico.routing.settings import RoutingSettings
from portico.storage.settings import StorageSettings

__all__ = [
    "ModelSettings",
    "Price",
    "ProviderKind",
    "Settings",
    "TimeoutSettings",
    "format_validation",
    "load_config",
    "read_yaml_file",
    "settings_from_dict",
]
CONFIG_ENV = "PORTICO_CONFIG"
DEFAULT_CONFIG_FILE = "portico.yaml"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CorsSettings(_Section):
    """Browser cross-origin access: off (no origins) by default. ``"*"`` allows any origin."""

    origins: list[str] = Field(default_factory=list)
    allow_headers: list[str] = Field(
        default_factory=lambda: [
            "authorization",
            "content-type",
            "x-api-key",
            "x-request-id",
            "x-portico-timeout",
            "anthropic-version",
            "openai-beta",
        ]
    )
    max_age: int = Field(default=600, ge=0)


class ServerSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    access_log: bool = False
    log_format: Literal["text", "json"] = Field(default="text", description="json: one JSON object per log line")
    request_log: bool = Field(
        default=False, description="log one line per request with its explanation (logger portico.requests)"
    )
    # numpy's BLAS threads spin after each call and slow the next embedding on small machines;
    # request-sized math is faster on one thread. null leaves the library's default.
    blas_threads: int | None = Field(default=1, ge=1)
    cors: CorsSettings = Field(default_factory=CorsSettings)
    # Seconds a request may take in all (attempts, retries, hedges and fallbacks together); a
    # key's metadata.request_timeout and the header x-portico-timeout can lower it.
    request_timeout: float = Field(default=600.0, gt=0)
    body_timeout: float = Field(default=30.0, gt=0)  # seconds to receive a request's whole body (408)
    max_header_bytes: int = Field(default=64 * 1024, ge=1024)  # more -> 431
    max_header_lines: int = Field(default=100, ge=8)  # more -> 431


class AuthSettings(_Section):
    master_key: SecretStr | None = None


class EmbeddingSettings(_Section):
    enabled: bool = True
    model_name: str = "local-embed"
    threads: int = Field(default=1, ge=1)
    max_inputs: int = Field(default=2048, ge=1)
    # What a client's embedding request costs (input tokens; the local model is free by default).
    price: Price = Field(default_factory=Price)
    # Other names clients may use for the model, e.g. {"text-embedding-3-small": "local-embed"}.
    aliases: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _aliases_name_the_model(self) -> EmbeddingSettings:
        wrong = [a for a, target in self.aliases.items() if target != self.model_name]
        if wrong:
            raise ValueError(f"embeddings.aliases must map to '{self.model_name}' (wrong: {', '.join(wrong)})")
        return self


class MetricsSettings(_Section):
    # Who may scrape /metrics: public (default), key (any valid key) or admin (the master key).
    access: Literal["public", "key", "admin"] | None = None
    require_key: bool = False  # older spelling of access: key

    def level(self) -> str:
        return self.access or ("key" if self.require_key else "public")


class Settings(_Section):
    server: ServerSettings = Field(default_factory=ServerSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    models: list[ModelSettings] = Field(default_factory=lambda: [ModelSettings(name="local", provider="local")])
    embeddings: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    resilience: ResilienceSettings = Field(default_factory=ResilienceSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    limits: LimitsSettings = Field(default_factory=LimitsSettings)
    routing: RoutingSettings = Field(default_factory=RoutingSettings)
    cache: CacheSettings = Field(default_factory=CacheSettings)
    guards: GuardSettings = Field(default_factory=GuardSettings)
    responses: ResponsesSettings = Field(default_factory=ResponsesSettings)
    compression: CompressionSettings = Field(default_factory=CompressionSettings)
    files: FilesSettings = Field(default_factory=FilesSettings)
    rag: RagSettings = Field(default_factory=RagSettings)
    batch: BatchSettings = Field(default_factory=BatchSettings)
    tracing: TracingSettings = Field(default_factory=TracingSettings)
    _source: str = PrivateAttr(default="built-in default")
    _unset_env: list[str] = PrivateAttr(default_factory=list)

    @model_validator(mode="after")
    def _resolve_defaults(self) -> Settings:
        # Keys, limits, ledger and audit come with a master key; open dev mode runs stateless
        # unless storage.enabled says otherwise.
        if self.storage.enabled is None:
            self.storage.enabled = self.auth.master_key is not None
        return self

    @property
    def source(self) -> str:
        """Where these settings came from (a file path or 'built-in default')."""
        return self._source

    @property
    def unset_env(self) -> list[str]:
        """Fields whose ``env:NAME`` variable was not set (they are null)."""
        return list(self._unset_env)

    def model_names(self) -> list[str]:
        seen: dict[str, None] = {}
        for m in self.models:
            seen.setdefault(m.name, None)
        return list(seen)

    def deployments(self, name: str) -> list[ModelSettings]:
        return [m for m in self.models if m.name == name]

    def secrets(self) -> list[str]:
        """Every configured secret value, for log scrubbing and tests."""
        out = [m.api_key.get_secret_value() for m in self.models if m.api_key]
        if self.auth.master_key:
            out.append(self.auth.master_key.get_secret_value())
        out.extend(self.tracing.headers.values())
        return [s for s in out if s]


def _resolve_env(value: Any, env: Mapping[str, str], missing: list[str], path: str) -> Any:
    if isinstance(value, str) and value.startswith("env:"):
        name = value[4:].strip()
        if name not in env:
            missing.append(f"{path} (env {name})")
            return None
        return env[name]
    if isinstance(value, dict):
        return {k: _resolve_env(v, env, missing, f"{path}.{k}" if path else str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_env(v, env, missing, f"{path}.{i}") for i, v in enumerate(value)]
    return value


def format_validation(exc: ValidationError, source: str, what: str = "configuration") -> str:
    """A pydantic error as one line per problem, each naming the field's dotted path."""
    lines = [f"Invalid {what} in {source}:"]
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        lines.append(f"  {where}: {err['msg']}")
    return "\n".join(lines)


def settings_from_dict(
    raw: Mapping[str, Any] | None, *, env: Mapping[str, str] | None = None, source: str = "<dict>"
) -> Settings:
    """Validate a config mapping; ``env:NAME`` values are read from ``env`` (default: os.environ)."""
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ConfigError(f"Invalid configuration in {source}: the top level must be a mapping")
    missing: list[str] = []
    resolved = _resolve_env(dict(raw), os.environ if env is None else env, missing, "")
    try:
        settings = Settings.model_validate(resolved)
    except ValidationError as exc:
        raise ConfigError(format_validation(exc, source)) from None
    settings._source = source
    settings._unset_env = missing
    return settings


def load_config(path: str | os.PathLike[str] | None = None, *, env: Mapping[str, str] | None = None) -> Settings:
    """Read settings from ``path``, else ``$PORTICO_CONFIG``, else ``./portico.yaml``, else built-in defaults."""
    environ = os.environ if env is None else env
    candidate = path or environ.get(CONFIG_ENV)
    if candidate is None and Path(DEFAULT_CONFIG_FILE).is_file():
        candidate = DEFAULT_CONFIG_FILE
    if candidate is None:
        return settings_from_dict({}, env=environ, source="built-in default")
    file = Path(candidate)
    raw = read_yaml_file(file, f"Config file {file}", f" (from {'--config' if path else CONFIG_ENV})")
    return settings_from_dict(raw, env=environ, source=str(file))


def read_yaml_file(file: Path, label: str, origin: str = "") -> Any:
    """Parse a YAML file or raise ConfigError saying it is missing or malformed."""
    if not file.is_file():
        raise ConfigError(f"{label} does not exist{origin}.")
    try:
        return yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{label} is not valid YAML: {exc}") from None
