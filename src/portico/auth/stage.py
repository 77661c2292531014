"""ModelPermissionStage: the caller's key (and team) may use the requested model, or 403.

The key itself was checked at the door (``portico.auth.access``) before the request was
parsed; this stage runs inside the chain, after accounting, so a refused model is audited.
"""

from __future__ import annotations

from portico.auth.principal import STATE_KEY, Principal
from portico.errors import PermissionDenied
from portico.pipeline import Next, Reply, RequestContext


class ModelPermissionStage:
    async def __call__(self, ctx: RequestContext, call_next: Next) -> Reply:
        principal: Principal | None = ctx.state.get(STATE_KEY)
        if principal is not None and not principal.allows(ctx.model_requested):
            raise PermissionDenied(
                f"This key may not use model '{ctx.model_requested}'.",
                code="model_not_allowed",
                param="model",
            )
        return await call_next(ctx)
