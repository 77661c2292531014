"""The request path: RequestContext, the Stage protocol and the Pipeline that composes stages."""

from portico.pipeline.context import Caller, GuardFinding, RequestContext
from portico.pipeline.stage import ChunkStream, Next, Pipeline, Reply, Stage

__all__ = ["Caller", "ChunkStream", "GuardFinding", "Next", "Pipeline", "Reply", "RequestContext", "Stage"]
