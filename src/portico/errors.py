"""Portico's one error hierarchy, rendered as OpenAI-style JSON at the HTTP boundary.

    PorticoError                      500 api_error
    ├── ConfigError                   (start-up only; never reaches a client)
    ├── InvalidRequest                400 invalid_request_error
    │   ├── PayloadTooLarge           413
    │   ├── UnprocessableRequest      422
    │   ├── UnsupportedMediaType      415
    │   ├── RequestTimeout            408 (the body did not arrive in time)
    │   └── HeadersTooLarge           431
    │   └── ContentPolicyViolation    400 code=content_policy_violation
    ├── AuthenticationFailed          401 authentication_error
    ├── PermissionDenied              403 permission_error
    ├── NotFound                      404 not_found_error
    │   └── ModelNotFound             404 code=model_not_found
    ├── RateLimited                   429 rate_limit_error (+ Retry-After)
    │   └── BudgetExceeded            429 code=budget_exceeded
    ├── CacheMiss                     504 code=cache_miss (x-portico-cache: only-if-cached)
    └── UpstreamError                 502 upstream_error (retryable unless said otherwise)
        ├── UpstreamUnavailable       503 (connection refused / reset, circuit open)
        ├── UpstreamTimeout           504
        └── UpstreamStatus            the upstream's own 4xx relayed, 5xx as 502

Every error carries ``status``, ``type``, ``code``, ``param``, ``retryable`` and
``retry_after`` (seconds) so that retries, fallbacks and the renderer never guess.
Lower-level exceptions are mapped at the boundary with ``raise Mapped(...) from exc``.
"""

from __future__ import annotations

from typing import Any, ClassVar


class PorticoError(Exception):
    """Base of every error Portico raises on purpose."""

    status: ClassVar[int] = 500
    type: ClassVar[str] = "api_error"
    default_code: ClassVar[str | None] = None
    retryable_default: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        retryable: bool | None = None,
        retry_after: float | None = None,
        status: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code if code is not None else self.default_code
        self.param = param
        self.retryable = self.retryable_default if retryable is None else retryable
        self.retry_after = retry_after
        self.headers: dict[str, str] = dict(headers or {})
        if status is not None:
            self.status = status  # type: ignore[misc]

    def payload(self) -> dict[str, Any]:
        """The OpenAI-style error body."""
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}

    def response_headers(self) -> dict[str, str]:
        headers = dict(self.headers)
        if self.retry_after is not None:
            headers["retry-after"] = str(max(1, int(self.retry_after + 0.999)))
        return headers


class ConfigError(PorticoError):
    """The configuration is invalid; raised at start-up with the offending field named."""


class InvalidRequest(PorticoError):
    status = 400
    type = "invalid_request_error"


class PayloadTooLarge(InvalidRequest):
    status = 413
    default_code = "payload_too_large"


class UnprocessableRequest(InvalidRequest):
    status = 422


class UnsupportedMediaType(InvalidRequest):
    status = 415
    default_code = "unsupported_media_type"


class RequestTimeout(InvalidRequest):
    status = 408
    default_code = "request_timeout"


class HeadersTooLarge(InvalidRequest):
    status = 431
    default_code = "request_header_fields_too_large"


class ContentPolicyViolation(InvalidRequest):
    default_code = "content_policy_violation"


class AuthenticationFailed(PorticoError):
    status = 401
    type = "authentication_error"
    default_code = "invalid_api_key"


class PermissionDenied(PorticoError):
    status = 403
    type = "permission_error"


class NotFound(PorticoError):
    status = 404
    type = "not_found_error"


class ModelNotFound(NotFound):
    default_code = "model_not_found"


class RateLimited(PorticoError):
    status = 429
    type = "rate_limit_error"
    default_code = "rate_limit_exceeded"
    retryable_default = True


class BudgetExceeded(RateLimited):
    default_code = "budget_exceeded"
    retryable_default = False


class CacheMiss(PorticoError):
    """``x-portico-cache: only-if-cached`` and no cached answer (HTTP's only-if-cached gives 504)."""

    status = 504
    type = "cache_miss_error"
    default_code = "cache_miss"


class UpstreamError(PorticoError):
    status = 502
    type = "upstream_error"
    default_code = "upstream_error"
    retryable_default = True


class UpstreamUnavailable(UpstreamError):
    status = 503
    default_code = "upstream_unavailable"

    def response_headers(self) -> dict[str, str]:
        # A retryable 503 always says when to come back (1 s unless the cause knows better).
        headers = super().response_headers()
        if self.retryable and "retry-after" not in headers:
            headers["retry-after"] = "1"
        return headers


class UpstreamTimeout(UpstreamError):
    status = 504
    default_code = "upstream_timeout"


class UpstreamStatus(UpstreamError):
    """An upstream answered with an error status; 4xx are relayed as they are, 5xx become 502."""

    RETRYABLE_STATUSES: ClassVar[frozenset[int]] = frozenset({408, 429, 500, 502, 503, 504, 529})  # 529: overloaded

    def __init__(
        self,
        message: str,
        *,
        upstream_status: int,
        code: str | None = None,
        param: str | None = None,
        retry_after: float | None = None,
        error_type: str | None = None,
    ) -> None:
        relayed = upstream_status if 400 <= upstream_status < 500 else 502
        super().__init__(
            message,
            code=code or f"upstream_status_{upstream_status}",
            param=param,
            retryable=upstream_status in self.RETRYABLE_STATUSES,
            retry_after=retry_after,
            status=relayed,
        )
        self.upstream_status = upstream_status
        self.error_type = error_type

    def payload(self) -> dict[str, Any]:
        body = super().payload()
        if self.error_type:
            body["error"]["type"] = self.error_type
        return body


def internal_error(request_id: str) -> PorticoError:
    """What a client sees for a bug: no traceback, a request id to find it in the log."""
    return PorticoError(f"Internal error; the gateway log has the details under request id {request_id}.")
