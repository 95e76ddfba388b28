#!/usr/bin/env bash
# Runs the benchmarks against 127.0.0.1 only and prints them side by side:
#   1. webhook intake: the real binary with APP_MODE=web, driven by bench/loadgen
#   2. end to end against its peer: bench/e2e -twin, the service (APP_MODE=all,
#      LLM_PROVIDER=rules, WORKER_CONCURRENCY=8) and bench/asynqtwin (the same
#      pipeline on asynq v0.26.0) in interleaved rounds, same N and concurrency
# Every step is bounded in count and time and cleans up its database and Redis keys.
# Knobs (environment): N (20000), C (32), WORKERS (8), LOAD_SECS (60), WAIT_SECS (60), ROUNDS (3).
set -euo pipefail

cd "$(dirname "$0")/.."
N=${N:-20000}
C=${C:-32}
WORKERS=${WORKERS:-8}
LOAD_SECS=${LOAD_SECS:-60}
WAIT_SECS=${WAIT_SECS:-60}
ROUNDS=${ROUNDS:-3}
PG_ADMIN="postgres://postgres:postgres@127.0.0.1:5432/postgres?sslmode=disable"

tmp=$(mktemp -d /tmp/bench-run.XXXXXX)
web_db="bench_web_$(od -An -N5 -tx1 /dev/urandom | tr -d ' \n')"
web_pid=""
cleanup() {
  if [[ -n "$web_pid" ]] && kill -0 "$web_pid" 2>/dev/null; then
    kill -TERM "$web_pid" 2>/dev/null || true
    timeout 30 tail --pid="$web_pid" -f /dev/null || kill -KILL "$web_pid" 2>/dev/null || true
  fi
  psql "$PG_ADMIN" -qAtc "DROP DATABASE IF EXISTS $web_db WITH (FORCE)" >/dev/null 2>&1 || true
  redis-cli -h 127.0.0.1 --scan --pattern "{$web_db}:*" | xargs -r redis-cli -h 127.0.0.1 del >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '\n=== %s (load average: %s)\n' "$1" "$(cut -d' ' -f1-3 /proc/loadavg)"; }

say "building"
# The service runs from a copy, as it does from an image (Dockerfile COPY):
# the linker's own output file measured 4 MiB more file-backed RSS at idle
# than a copy of it (35.7 vs 31.7 MiB), the same code, and more under load.
go build -o "$tmp/matcher.built" .
cp "$tmp/matcher.built" "$tmp/matcher"
go build -o "$tmp/loadgen" ./bench/loadgen
go build -o "$tmp/e2e" ./bench/e2e

# 1. Webhook intake: APP_MODE=web, so RSS and latency are the web side's alone.
say "1/2 webhook intake: APP_MODE=web, $N webhooks, $C senders"
psql "$PG_ADMIN" -qAtc "CREATE DATABASE $web_db" >/dev/null
secret=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
env -i PATH="$PATH" HOME="$HOME" APP_MODE=web PORT=0 LLM_PROVIDER=rules \
  DATABASE_URL="postgres://postgres:postgres@127.0.0.1:5432/$web_db?sslmode=disable" \
  REDIS_URL=redis://127.0.0.1:6379/0 REDIS_NAMESPACE="$web_db" WEBHOOK_SECRET="$secret" \
  "$tmp/matcher" >"$tmp/web.log" 2>&1 &
web_pid=$!
port=""
for _ in $(seq 300); do
  port=$(grep -m1 '"http server listening"' "$tmp/web.log" 2>/dev/null | sed -n 's/.*"addr":"[^"]*:\([0-9]*\)".*/\1/p' || true)
  [[ -n "$port" ]] && break
  kill -0 "$web_pid" 2>/dev/null || { cat "$tmp/web.log"; exit 1; }
  sleep 0.2
done
[[ -n "$port" ]] || { echo "service did not start"; cat "$tmp/web.log"; exit 1; }
for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.2
done
WEBHOOK_SECRET="$secret" timeout $((LOAD_SECS + 30)) "$tmp/loadgen" -url "http://127.0.0.1:$port/api/v1/zendesk/webhook" \
  -n "$N" -c "$C" -d "${LOAD_SECS}s" -rss-pid "$web_pid" -summary | tee "$tmp/web.out" || true
kill -TERM "$web_pid"
timeout 30 tail --pid="$web_pid" -f /dev/null || kill -KILL "$web_pid"
web_pid=""

# 2. End to end, the service and its asynq twin in turn, each on a fresh database.
say "2/2 end to end: service and asynq twin, $ROUNDS rounds, $N emails each, WORKER_CONCURRENCY=$WORKERS"
timeout $(((LOAD_SECS + WAIT_SECS + 120) * 2 * ROUNDS)) "$tmp/e2e" -bin "$tmp/matcher" -n "$N" -c "$C" -workers "$WORKERS" \
  -d "${LOAD_SECS}s" -wait "${WAIT_SECS}s" -twin -rounds "$ROUNDS" -summary | tee "$tmp/e2e.out" || true

# Side-by-side table from the SUMMARY lines.
field() { # file prefix key
  grep -m1 "^SUMMARY $2 " "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$3=//p" | head -1
}
val() { local v; v=$(field "$@"); echo "${v:-n/a}"; }
e2e_rate=$(val "$tmp/e2e.out" e2e emails_per_sec)
say "summary ($(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ))"
printf '%-44s %14s   %s\n' "measure" "measured" "target"
printf '%-44s %14s   %s\n' "webhook accepted/s ($C senders, APP_MODE=web)" "$(val "$tmp/web.out" loadgen accepted_per_sec)" ">= 2500"
printf '%-44s %14s   %s\n' "webhook p50 / p99 ms" "$(val "$tmp/web.out" loadgen p50_ms) / $(val "$tmp/web.out" loadgen p99_ms)" "p99 < 50"
printf '%-44s %14s   %s\n' "web peak RSS MiB (VmHWM)" "$(val "$tmp/web.out" loadgen rss_hwm_mib)" "< 60"
printf '%-44s %14s   %s\n' "end to end emails/s (rules, 8 workers)" "$e2e_rate" "(round 1)"
printf '%-44s %14s   %s\n' "end to end terminal emails / failed" "$(val "$tmp/e2e.out" e2e terminal) / $(val "$tmp/e2e.out" e2e failed)" "$N / 0"
printf '%-44s %14s   %s\n' "end to end latency p50 / p99 ms" "$(val "$tmp/e2e.out" e2e latency_p50_ms) / $(val "$tmp/e2e.out" e2e latency_p99_ms)" ""
printf '%-44s %14s   %s\n' "e2e webhook accepted/s / p99 ms (with workers)" "$(val "$tmp/e2e.out" e2e accepted_per_sec) / $(val "$tmp/e2e.out" e2e p99_ms)" ""
printf '%-44s %14s   %s\n' "all-mode peak RSS MiB (VmHWM)" "$(val "$tmp/e2e.out" e2e rss_hwm_mib)" "< 80"
printf '%-44s %14s   %s\n' "service emails/s per round" "$(val "$tmp/e2e.out" compare service_emails_per_sec)" ""
printf '%-44s %14s   %s\n' "asynq twin emails/s per round" "$(val "$tmp/e2e.out" compare twin_emails_per_sec)" ""
printf '%-44s %14s   %s\n' "service ÷ twin per round" "$(val "$tmp/e2e.out" compare ratio)" ">= 1.00"
printf '%-44s %14s   %s\n' "CPU ms/email service (proc+pg+redis)" "$(val "$tmp/e2e.out" compare service_cpu_ms_per_email)" ""
printf '%-44s %14s   %s\n' "CPU ms/email twin (proc+pg+redis)" "$(val "$tmp/e2e.out" compare twin_cpu_ms_per_email)" ""
