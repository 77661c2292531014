"""Reads the harness's JSONL and prints the RESULT line for bench/overhead.sh."""

from __future__ import annotations

import json
import sys


def main() -> None:
    variant, path = sys.argv[1], sys.argv[2]
    with open(path, encoding="utf-8") as f:
        rows = {r["name"]: r for r in map(json.loads, f)}

    def get(name: str, key: str) -> float | None:
        value = rows.get(name, {}).get(key)
        return None if value is None else float(value)

    def fmt(value: float | None, digits: int = 3) -> str:
        return "nan" if value is None else f"{value:.{digits}f}"

    if variant == "controls":
        print(
            "RESULT "
            + " ".join(
                [
                    f"cpu_ms_per_req_plain={fmt(get('plain', 'gw_cpu_ms_per_req'))}",
                    f"cpu_ms_per_req_controls={fmt(get('controls', 'gw_cpu_ms_per_req'))}",
                    f"cpu_ms_per_req_redis={fmt(get('redis', 'gw_cpu_ms_per_req'))}",
                    f"plain_rps={fmt(get('plain', 'rps'), 1)} controls_rps={fmt(get('controls', 'rps'), 1)}",
                    f"redis_rps={fmt(get('redis', 'rps'), 1)}",
                    f"errors={int(sum(r.get('errors', 0) or 0 for r in rows.values()))}",
                ]
            )
        )
        return
    p50 = get("portico-50ms", "p50_ms")
    d50 = get("direct-50ms", "p50_ms")
    added = None if p50 is None or d50 is None else p50 - d50
    portico_rps, litellm_rps = get("portico", "rps"), get("litellm", "rps")
    ratio = None if not portico_rps or not litellm_rps else portico_rps / litellm_rps
    print(
        "RESULT "
        + " ".join(
            [
                f"portico_cpu_ms_per_req={fmt(get('portico', 'gw_cpu_ms_per_req'))}",
                f"litellm_cpu_ms_per_req={fmt(get('litellm', 'gw_cpu_ms_per_req'))}",
                f"direct_rps={fmt(get('direct', 'rps'), 1)}",
                f"portico_rps={fmt(portico_rps, 1)}",
                f"litellm_rps={fmt(litellm_rps, 1)}",
                f"rps_ratio_vs_litellm={fmt(ratio, 1)}",
                f"added_p50_ms_at_50ms={fmt(added)}",
                f"portico_errors={int(rows.get('portico', {}).get('errors', 0) or 0)}",
            ]
        )
    )


if __name__ == "__main__":
    main()
