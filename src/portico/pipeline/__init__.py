"""The request path: RequestContext, the Stage protocol and the Pipeline that composes stages."""

from portico.pipeline.context import Caller, GuardFinding, RequestContext, is_cache_hit
from portico.pipeline.stage import ChunkStream, Next, Pipeline, Reply, Stage

__all__ = [
    "Caller",
    "ChunkStream",
    "GuardFinding",
    "Next",
    "Pipeline",
    "Reply",
    "RequestContext",
    "Stage",
    "is_cache_hit",
]
