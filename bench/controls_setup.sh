# Sourced by bench/overhead.sh controls: configs and a key for the "controls" and "redis" runs.
# Defines CONTROLS_CMD, REDIS_CMD and GW_KEY_CONTROLS. The key's limits are far above what the
# benchmark sends, so every request goes through every check and none is refused.
CTL_DIR="$(mktemp -d /tmp/portico-controls-bench.XXXXXX)"
CTL_PREFIX="pt-bench-$$:"
for variant in controls redis; do
  backend=memory; [ "$variant" = redis ] && backend=redis
  cat >"$CTL_DIR/$variant.yaml" <<YAML
models:
  - name: gpt-4o-mini
    provider: openai
    base_url: http://127.0.0.1:18000/v1
    api_key: sk-upstream-dummy
    price: {input_per_mtok: 0.15, output_per_mtok: 0.60}
embeddings: {enabled: false}
server: {log_level: warning}
auth: {master_key: sk-bench-master-$$}
storage: {url: "sqlite+aiosqlite:///$CTL_DIR/portico.db", wal_dir: "$CTL_DIR/wal-$variant"}
limits: {backend: $backend, key_prefix: "$CTL_PREFIX"}
YAML
done
GW_KEY_CONTROLS="$("$ROOT/.venv/bin/python" - "$CTL_DIR/controls.yaml" <<'PY'
import asyncio, sys
from portico.auth.keys import KeyManager
from portico.config import load_config
from portico.storage.records import KeySpec
from portico.storage.sql import SqlStore

async def main() -> None:
    store = SqlStore(load_config(sys.argv[1]).storage)
    await store.start()
    _, secret = await KeyManager(store).create(KeySpec(
        name="bench", rpm=100_000_000, tpm=10_000_000_000, max_concurrency=10_000, budget_usd=1_000_000.0))
    await store.close()
    print(secret)

asyncio.run(main())
PY
)"
SERVE="${PORTICO_SERVE:-$PORTICO serve}"
CONTROLS_CMD="$SERVE --config $CTL_DIR/controls.yaml --port \$GW_PORT"
REDIS_CMD="$SERVE --config $CTL_DIR/redis.yaml --port \$GW_PORT"
export GW_KEY_CONTROLS CONTROLS_CMD REDIS_CMD
