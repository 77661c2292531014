#!/usr/bin/env bash
# The Node clients' default paths against Portico: the `openai` package's responses.create
# (plain and streamed) and the Vercel AI SDK's generateText / streamText with the default
# OpenAI provider (`openai("...")`, which speaks the Responses API).
#
#   bash scripts/node_clients.sh                   # starts a fake upstream + Portico on loopback
#   PORTICO_URL=http://127.0.0.1:8000 MODEL=local bash scripts/node_clients.sh   # a running Portico
#
# The packages are installed with npm into a temporary folder (nothing in the repo changes).
# Skips (exit 0) when npm is not installed.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
command -v npm >/dev/null && command -v node >/dev/null || { echo "SKIP: npm/node not installed"; exit 0; }
WORK="$(mktemp -d /tmp/portico-node-clients.XXXXXX)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -- "-$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

MODEL="${MODEL:-gpt-4o-mini}"
if [ -z "${PORTICO_URL:-}" ]; then
  PY="$ROOT/.venv/bin/python"
  UP=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  GW=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  cat >"$WORK/portico.yaml" <<YAML
models:
  - {name: gpt-4o-mini, provider: openai, base_url: "http://127.0.0.1:$UP/v1", api_key: sk-up-dummy}
embeddings: {enabled: false}
server: {log_level: warning}
YAML
  setsid "$PY" -m portico.testing.fake_upstream --port "$UP" --reply "Paris is the capital of France." \
    >"$WORK/upstream.log" 2>&1 & PIDS+=($!)
  setsid "$ROOT/.venv/bin/portico" serve --config "$WORK/portico.yaml" --port "$GW" >"$WORK/gateway.log" 2>&1 & PIDS+=($!)
  PORTICO_URL="http://127.0.0.1:$GW"
  UPSTREAM_CONTROL="http://127.0.0.1:$UP/_control/script"  # lets the tool-call check script a call
  for _ in $(seq 1 120); do curl -sf "$PORTICO_URL/readyz" >/dev/null && break; sleep 0.5; done
  curl -sf "$PORTICO_URL/readyz" >/dev/null || { echo "Portico did not start:"; tail -20 "$WORK/gateway.log"; exit 1; }
fi

cd "$WORK"
npm init -y >/dev/null
npm install --silent --no-audit --no-fund openai ai @ai-sdk/openai zod >/dev/null
echo "# node $(node --version); $(npm ls --depth=0 2>/dev/null | grep -E 'openai|ai@' | tr -d '\n' | sed 's/[├└]──/ /g')"
cat >clients.mjs <<'JS'
import OpenAI from "openai";
import { generateText, streamText, tool, stepCountIs } from "ai";
import { z } from "zod";
import { createOpenAI } from "@ai-sdk/openai";

const base = process.env.PORTICO_URL + "/v1";
const model = process.env.MODEL;
let failed = 0;
async function check(name, fn) {
  try {
    console.log(`ok   ${name}: ${await fn()}`);
  } catch (err) {
    failed += 1;
    console.log(`FAIL ${name}: ${err?.message ?? err}`);
  }
}

const client = new OpenAI({ baseURL: base, apiKey: process.env.PORTICO_KEY ?? "anything", maxRetries: 0 });
await check("openai responses.create", async () => {
  const r = await client.responses.create({ model, input: "What is the capital of France?", instructions: "Be brief." });
  if (r.status !== "completed" || !r.output_text) throw new Error(`status ${r.status}, text ${r.output_text}`);
  const again = await client.responses.retrieve(r.id);
  return `${JSON.stringify(r.output_text)} usage=${r.usage.input_tokens}/${r.usage.output_tokens} retrieved=${again.id === r.id}`;
});
await check("openai responses.create stream", async () => {
  const stream = await client.responses.create({ model, input: "Say hello.", stream: true });
  const kinds = [];
  for await (const event of stream) kinds.push(event.type);
  if (kinds.at(-1) !== "response.completed") throw new Error(kinds.join(","));
  return `${kinds.length} events, ${kinds[0]} .. ${kinds.at(-1)}`;
});

const provider = createOpenAI({ baseURL: base, apiKey: process.env.PORTICO_KEY ?? "anything" });
await check("ai generateText (default provider: Responses API)", async () => {
  const r = await generateText({ model: provider(model), prompt: "What is the capital of France?" });
  if (!r.text) throw new Error("empty text");
  return `${JSON.stringify(r.text)} finish=${r.finishReason} usage=${r.usage.inputTokens}/${r.usage.outputTokens}`;
});
await check("ai streamText", async () => {
  const r = streamText({ model: provider(model), prompt: "Say hello." });
  let text = "";
  for await (const delta of r.textStream) text += delta;
  if (!text) throw new Error("empty stream");
  const usage = await r.usage;
  return `${JSON.stringify(text)} usage=${usage.inputTokens}/${usage.outputTokens}`;
});
if (process.env.UPSTREAM_CONTROL) {
  await check("ai generateText with a tool (call, execute, answer)", async () => {
    const call = { tool_calls: [{ name: "weather", arguments: '{"city": "Paris"}' }] };
    await fetch(process.env.UPSTREAM_CONTROL, { method: "POST", body: JSON.stringify({ queue: [call] }) });
    let ran = null;
    const r = await generateText({
      model: provider(model),
      prompt: "Weather in Paris?",
      tools: {
        weather: tool({
          description: "Weather in a city",
          inputSchema: z.object({ city: z.string() }),
          execute: async ({ city }) => { ran = city; return "18C and sunny"; },
        }),
      },
      stopWhen: stepCountIs(2),
    });
    if (ran !== "Paris" || !r.text) throw new Error(`tool ran with ${ran}, text ${r.text}`);
    return `tool ran with city=${ran}, ${r.steps.length} steps, final ${JSON.stringify(r.text)}`;
  });
}
process.exit(failed ? 1 : 0);
JS
PORTICO_URL="$PORTICO_URL" MODEL="$MODEL" UPSTREAM_CONTROL="${UPSTREAM_CONTROL:-}" node clients.mjs
