"""The Batch API (``/v1/batches``): JSONL files of requests run by a durable, leased runner.

Import the parts from their modules (``portico.batch.runner``, ``.service``, ...): this
package is imported by ``portico.config`` for its settings and stays light.
"""

from portico.batch.records import ACTIVE, TERMINAL, BatchRecord, Line, LineResult
from portico.batch.settings import BatchSettings

__all__ = ["ACTIVE", "TERMINAL", "BatchRecord", "BatchSettings", "Line", "LineResult"]
