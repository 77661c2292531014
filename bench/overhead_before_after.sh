#!/usr/bin/env bash
# CPU per request of this checkout against another checkout's src (e.g. an older commit), in one
# run, alternating so both see the same machine load: wrk (32 conns) -> portico -> fake upstream.
#
#   git worktree add /tmp/old a8c5a96
#   bash bench/overhead_before_after.sh /tmp/old/src [plain|controls]
#
# Knobs: ROUNDS (default 2), DURATION (s, default 10), WARMUP (default 5), HARNESS=path.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OLD_SRC="$(cd "${1:?usage: overhead_before_after.sh OLD_SRC [plain|controls]}" && pwd)"
VARIANT="${2:-plain}"
HARNESS="${HARNESS:-$ROOT/../shared/bench/gateway}"
[ -x "$ROOT/.venv/bin/portico" ] || { echo "no .venv: run 'make test' first" >&2; exit 1; }
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
export RESULTS="$(mktemp --suffix=.jsonl)" DURATION="${DURATION:-10}" WARMUP="${WARMUP:-5}" REPEAT=1
export UPSTREAM_PY="$ROOT/.venv/bin/python"
cd "$HARNESS"
CMD="$ROOT/.venv/bin/portico serve --config $ROOT/bench/configs/plain.yaml --port \$GW_PORT"
EXTRA=()
if [ "$VARIANT" = controls ]; then
  # shellcheck source=/dev/null
  source "$ROOT/bench/controls_setup.sh"   # CONTROLS_CMD and GW_KEY_CONTROLS
  CMD="$CONTROLS_CMD"; EXTRA=(GW_KEY="$GW_KEY_CONTROLS")
fi
for i in $(seq 1 "${ROUNDS:-2}"); do
  for side in before after; do
    src=$([ $side = before ] && echo "$OLD_SRC" || echo "$ROOT/src")
    env "${EXTRA[@]}" PYTHONPATH="$src" NAME="$side" CONNS=32 UPSTREAM_DELAY_MS=0 GW_PORT=18432 ./run.sh "$CMD" 2>&1 \
      | grep '^RESULT' || true
  done
done
"$ROOT/.venv/bin/python" - "$RESULTS" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8")]
def med(name, key):
    vals = [float(r[key]) for r in rows if r["name"] == name and r.get(key) is not None]
    return statistics.median(vals) if vals else float("nan")
b, a = med("before", "gw_cpu_ms_per_req"), med("after", "gw_cpu_ms_per_req")
foreign = statistics.mean(float(r.get("foreign_cpu_pct") or 0) for r in rows) if rows else float("nan")
print(f"RESULT cpu_ms_per_req_before={b:.3f} cpu_ms_per_req_after={a:.3f} ratio={a / b:.3f} "
      f"rps_before={med('before', 'rps'):.1f} rps_after={med('after', 'rps'):.1f} foreign_cpu_pct={foreign:.0f}")
PY
