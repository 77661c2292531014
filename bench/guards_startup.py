"""Gateway start-up with the injection and content guards on and the embeddings endpoint on
(the default): wall and CPU time (all threads) of ``assemble`` + ``await gateway.start()``,
the process's resident memory after it (``VmRSS`` as is and after ``malloc_trim``, and its
growth over the imports), its peak (``VmHWM``), and how many MiniLM sessions it holds.

One measurement per process, so run it several times, alternating the code before and after
a change, e.g. (``/work/main/src`` = before)::

    for i in 1 2 3 4 5; do
      PYTHONPATH=/work/main/src .venv/bin/python bench/guards_startup.py --label before
      PYTHONPATH=src .venv/bin/python bench/guards_startup.py --label after
    done

Only the public assembly API is used, so the same script measures either tree."""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import gc
import time
from pathlib import Path


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text(encoding="utf-8").splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(field)


async def _start(label: str) -> str:
    from portico.assembly import assemble
    from portico.embeddings import MiniLMEmbedder
    from portico.testing import make_settings

    guards = {"default": {"input": [{"type": "injection", "action": "flag"}, {"type": "content", "action": "flag"}]}}
    settings = make_settings(guards=guards, embeddings={"enabled": True})
    base = _status_mb("VmRSS")
    t0, c0 = time.perf_counter(), time.process_time()
    gateway = assemble(settings)
    await gateway.start()
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    # Read while the gateway is alive (after it, its sessions may be collected).
    rss = _status_mb("VmRSS")
    # Freed heap glibc has not handed back yet is noise here: trimmed, RSS is what is live.
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    live = _status_mb("VmRSS")
    sessions = sum(isinstance(o, MiniLMEmbedder) for o in gc.get_objects())
    await gateway.stop()
    return (
        f"RESULT label={label} start_s={elapsed:.3f} start_cpu_s={cpu:.3f} rss_mb={rss:.1f} rss_trimmed_mb={live:.1f} "
        f"rss_growth_mb={live - base:.1f} peak_rss_mb={_status_mb('VmHWM'):.1f} minilm_sessions={sessions}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--label", default="")
    args = parser.parse_args()
    import portico.assembly  # noqa: F401  (imports are not start-up: measured apart)

    print(asyncio.run(_start(args.label)))


if __name__ == "__main__":
    main()
