#!/usr/bin/env bash
# Issue 14's flood: the real binary with APP_MODE=web on a fresh database,
# driven by bench/forged (forged 5 MB bodies from many clients, signed
# webhooks at a modest rate). 127.0.0.1 only; cleans up its database and
# Redis keys. Knobs (environment): SECS (30), CLIENTS (64), SIZE (5000000),
# RATE (10 signed webhooks/s).
set -euo pipefail

cd "$(dirname "$0")/.."
SECS=${SECS:-30}
CLIENTS=${CLIENTS:-64}
SIZE=${SIZE:-5000000}
RATE=${RATE:-10}
PG_ADMIN="postgres://postgres:postgres@127.0.0.1:5432/postgres?sslmode=disable"

tmp=$(mktemp -d /tmp/bench-forged.XXXXXX)
db="bench_forged_$(od -An -N5 -tx1 /dev/urandom | tr -d ' \n')"
pid=""
cleanup() {
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    timeout 30 tail --pid="$pid" -f /dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  psql "$PG_ADMIN" -qAtc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  redis-cli -h 127.0.0.1 --scan --pattern "{$db}:*" | xargs -r redis-cli -h 127.0.0.1 del >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The service runs from a copy of the build, as in run.sh and the image.
go build -o "$tmp/matcher.built" .
cp "$tmp/matcher.built" "$tmp/matcher"
go build -o "$tmp/forged" ./bench/forged
psql "$PG_ADMIN" -qAtc "CREATE DATABASE $db" >/dev/null
secret=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
env -i PATH="$PATH" HOME="$HOME" APP_MODE=web PORT=0 LLM_PROVIDER=rules \
  DATABASE_URL="postgres://postgres:postgres@127.0.0.1:5432/$db?sslmode=disable" \
  REDIS_URL=redis://127.0.0.1:6379/0 REDIS_NAMESPACE="$db" WEBHOOK_SECRET="$secret" \
  "$tmp/matcher" >"$tmp/web.log" 2>&1 &
pid=$!
port=""
for _ in $(seq 300); do
  port=$(grep -m1 '"http server listening"' "$tmp/web.log" 2>/dev/null | sed -n 's/.*"addr":"[^"]*:\([0-9]*\)".*/\1/p' || true)
  [[ -n "$port" ]] && break
  kill -0 "$pid" 2>/dev/null || { cat "$tmp/web.log"; exit 1; }
  sleep 0.2
done
[[ -n "$port" ]] || { echo "service did not start"; cat "$tmp/web.log"; exit 1; }
for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.2
done
printf 'load average before: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
WEBHOOK_SECRET="$secret" timeout $((SECS + 60)) "$tmp/forged" -url "http://127.0.0.1:$port/api/v1/zendesk/webhook" \
  -c "$CLIENTS" -size "$SIZE" -rate "$RATE" -d "${SECS}s" -rss-pid "$pid" -summary
printf 'load average after: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
