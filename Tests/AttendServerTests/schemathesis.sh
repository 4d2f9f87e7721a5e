#!/usr/bin/env bash
# Property-based API fuzzing of attend serve's OpenAPI document with schemathesis (PyPI): starts `attend serve` on a
# free loopback port (the default models: all-MiniLM-L6-v2 and smollm2-135m when installed, tiny-translator, tiny-gpt;
# completions capped at 4 tokens with --max-completion-tokens so the language model's routes fuzz quickly), generates
# requests for every route from /openapi.json, and fails on any 5xx, any response that does not match the document
# (status code, content type, body schema), then stops the server. Bounded: a few examples per operation.
#
# usage: Tests/AttendServerTests/schemathesis.sh [ATTEND_BINARY]
#   SCHEMATHESIS=path/to/st (default: st on PATH)   ST_MAX_EXAMPLES=N (default 12)
set -euo pipefail
cd "$(dirname "$0")/../.."
attend="$(realpath "${1:-.build/debug/attend}")"
st="${SCHEMATHESIS:-st}"
command -v "$st" >/dev/null || { echo "schemathesis.sh: no schemathesis at $st (pip install schemathesis)" >&2; exit 1; }
log="$(mktemp)"
"$attend" serve --port 0 --max-completion-tokens 4 2>"$log" &
pid=$!
cleanup() { kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -f "$log"; }
trap cleanup EXIT
port=""
for _ in $(seq 1 600); do
    port="$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$log" | head -1 | sed 's/.*://' || true)"
    [ -n "$port" ] && break
    kill -0 "$pid" 2>/dev/null || { cat "$log"; echo "schemathesis.sh: attend serve exited" >&2; exit 1; }
    sleep 0.2
done
[ -n "$port" ] || { cat "$log"; echo "schemathesis.sh: attend serve did not start" >&2; exit 1; }
echo "== schemathesis against http://127.0.0.1:$port/openapi.json: $(grep -m1 "attend: serving" "$log" || true)"
# Run from a scratch folder: schemathesis keeps its example database in ./.schemathesis.
scratch="$(mktemp -d)"
(cd "$scratch" && "$st" run "http://127.0.0.1:$port/openapi.json" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --max-examples "${ST_MAX_EXAMPLES:-12}" --max-time "${ST_MAX_TIME:-100}" --workers 1 --request-timeout 60 --suppress-health-check all \
    --generation-deterministic --no-color)
rm -rf "$scratch"
kill -0 "$pid" 2>/dev/null || { echo "schemathesis.sh: the server died during the run" >&2; exit 1; }
