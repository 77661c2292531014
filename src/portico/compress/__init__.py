"""Prompt compression: query-aware extractive selection of long inputs (sentences and blocks)."""

from portico.compress.compressor import Compressed, Compressor, Tuning
from portico.compress.messages import Report, Target, compress_messages
from portico.compress.segment import Segment, split
from portico.compress.settings import CompressionSettings
from portico.compress.stage import HEADER, CompressionStage
from portico.compress.terms import estimate_tokens

__all__ = [
    "HEADER",
    "Compressed",
    "CompressionSettings",
    "CompressionStage",
    "Compressor",
    "Report",
    "Segment",
    "Target",
    "Tuning",
    "compress_messages",
    "estimate_tokens",
    "split",
]
