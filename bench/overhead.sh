#!/usr/bin/env bash
# Gateway overhead and throughput, side by side in one run: direct upstream, Portico, LiteLLM.
# Uses the shared harness in ../shared/bench/gateway (wrk -> gateway -> fake upstream, pinned CPUs).
#
#   bash bench/overhead.sh            # plain pipeline: delay 0 / 32 conns and 50 ms / 4 conns, + LiteLLM
#   bash bench/overhead.sh controls   # + keys, limits, ledger, audit (in-process and Redis limiter)
#   bash bench/overhead.sh responses  # /v1/responses CPU per request beside chat completions, one gateway
#
# Knobs: DURATION (s, default 10), WARMUP (default 5), SKIP_LITELLM=1, HARNESS=path.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
HARNESS="${HARNESS:-$ROOT/../shared/bench/gateway}"
VARIANT="${1:-plain}"
[ -x "$ROOT/.venv/bin/portico" ] || { echo "no .venv: run 'make test' first" >&2; exit 1; }
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
[ -d "$HARNESS" ] || { echo "benchmark harness not found at $HARNESS" >&2; exit 1; }
if [ "$VARIANT" = responses ]; then
  exec "$ROOT/.venv/bin/python" "$ROOT/bench/responses_overhead.py" --harness "$HARNESS"
fi

export RESULTS="$(mktemp --suffix=.jsonl)" DURATION="${DURATION:-10}" WARMUP="${WARMUP:-5}" REPEAT=1
export UPSTREAM_PY="$ROOT/.venv/bin/python"   # uvloop lives there: a faster fake upstream
PORTICO="$ROOT/.venv/bin/portico"
cd "$HARNESS"

run() { # run NAME CONNS DELAY CMD [extra env...]
  local name=$1 conns=$2 delay=$3 cmd=$4; shift 4
  env "$@" NAME="$name" CONNS="$conns" UPSTREAM_DELAY_MS="$delay" GW_PORT=18432 ./run.sh "$cmd" 2>&1 | grep '^RESULT' || true
}

if [ "$VARIANT" = controls ]; then
  # shellcheck source=/dev/null
  source "$ROOT/bench/controls_setup.sh"    # defines CONTROLS_CMD, REDIS_CMD and GW_KEY_CONTROLS
  run direct 32 0 direct
  run plain 32 0 "$PORTICO serve --config $ROOT/bench/configs/plain.yaml --port \$GW_PORT"
  run controls 32 0 "$CONTROLS_CMD" GW_KEY="$GW_KEY_CONTROLS"
  run redis 32 0 "$REDIS_CMD" GW_KEY="$GW_KEY_CONTROLS"
else
  run direct 32 0 direct
  run portico 32 0 "$PORTICO serve --config $ROOT/bench/configs/plain.yaml --port \$GW_PORT"
  run direct-50ms 4 50 direct
  run portico-50ms 4 50 "$PORTICO serve --config $ROOT/bench/configs/plain.yaml --port \$GW_PORT"
  if [ "${SKIP_LITELLM:-0}" != 1 ]; then
    [ -x /tmp/peer/litellm/bin/litellm ] || bash peers/litellm/install.sh >/dev/null 2>&1 || true
    if [ -x /tmp/peer/litellm/bin/litellm ]; then
      WARMUP=10 run litellm 32 0 '"$BENCH_DIR/peers/litellm/start.sh" default'
      WARMUP=10 run litellm-50ms 4 50 '"$BENCH_DIR/peers/litellm/start.sh" default'
    fi
  fi
fi
python3 summarize.py "$RESULTS" 2>/dev/null || true
"$ROOT/.venv/bin/python" "$ROOT/bench/overhead_result.py" "$VARIANT" "$RESULTS"
