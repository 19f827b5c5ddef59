#!/usr/bin/env bash
# Side-by-side load test of the rakguard emulator and localstripe (the Python stateful Stripe
# fake), measured in the same run with the same tool (wrk), on this machine's loopback.
#
#   bash bench/emulator.sh [seconds [rounds]]   # default 10 s per measurement, 3 rounds
#
# Prints, for "retrieve a customer with a restricted key" and "create customers": requests per
# second and p99 latency of each server at 64 connections, and the throughput ratio, for every
# round and as medians; then the emulator's resident memory after it holds 100,000 customers.
# Each round measures the emulator and localstripe back to back, so that the machine's drifts
# (this VM's speed varies by 10-15% from minute to minute) hit both sides of each ratio alike.
# Needs: wrk (apt-get install wrk), python3 with venv (localstripe is installed into a venv).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
ROUNDS=${2:-3}
CONNECTIONS=64
# One wrk thread: on 2 cores a second one takes CPU from the server under test (the same
# settings are used for both servers).
THREADS=1
EMU_PORT=${EMU_PORT:-12180}
LS_PORT=${LS_PORT:-12190}
VENV=${BENCH_VENV:-target/bench-venv}
WORK=$(mktemp -d)
# localstripe rewrites its whole store to this fixed file on every change; start it from nothing.
LS_PICKLE=/tmp/localstripe.pickle
cleanup() { kill "${EMU_PID:-}" "${LS_PID:-}" 2>/dev/null || true; rm -rf "$WORK" "$LS_PICKLE"; }
trap cleanup EXIT

command -v wrk >/dev/null || { echo "wrk is required: apt-get install -y wrk" >&2; exit 2; }
if [ ! -x "$VENV/bin/localstripe" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet localstripe
fi
cargo build --release --quiet -p rakguard

# A restricted key that may read and write customers, with a fixed secret.
KEY=rk_test_$(printf 'b%.0s' $(seq 1 99))
cat > "$WORK/keys.toml" <<TOML
[[key]]
name = "bench"
type = "restricted"
mode = "test"
secret = "$KEY"
permissions = ["customer_write"]
TOML

wait_up() {
  for _ in $(seq 1 300); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done
  echo "server at $1 did not start within 30 s; its log:" >&2; cat "$2" >&2; exit 1
}

LS_KEY=sk_test_$(printf 'c%.0s' $(seq 1 24))
customer() { curl -s -u "$2:" -d email=bench@example.com "$1/v1/customers" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'; }

# (Re)starts both servers from empty stores, each with one customer to retrieve.
start_servers() {
  kill "${EMU_PID:-}" "${LS_PID:-}" 2>/dev/null || true
  wait "${EMU_PID:-}" "${LS_PID:-}" 2>/dev/null || true
  target/release/rakguard emulator --port "$EMU_PORT" --keys "$WORK/keys.toml" --seed 1 \
    --rate-limit-per-second 100000000 > "$WORK/emulator.log" 2>&1 &
  EMU_PID=$!
  rm -f "$LS_PICKLE"
  "$VENV/bin/localstripe" --port "$LS_PORT" > "$WORK/localstripe.log" 2>&1 &
  LS_PID=$!
  wait_up "http://127.0.0.1:$EMU_PORT/v1/customers" "$WORK/emulator.log"
  wait_up "http://127.0.0.1:$LS_PORT/v1/customers" "$WORK/localstripe.log"
  EMU_CUS=$(customer "http://127.0.0.1:$EMU_PORT" "$KEY")
  LS_CUS=$(customer "http://127.0.0.1:$LS_PORT" "$LS_KEY")
}

cat > "$WORK/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = "email=load%40example.com&metadata[run]=bench"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
LUA

# run NAME URL KEY [script] -> "rps p99_ms"
run() {
  local out
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -H "Authorization: Bearer $3" ${4:+-s "$4"} "$2")
  local rps p99
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  local errors
  errors=$(awk '/Non-2xx or 3xx responses:/ {print $5}' <<<"$out")
  printf '%s\t%s\t%s\n' "$rps" "$(to_ms "$p99")" "${errors:-0}"
}
to_ms() { python3 -c "import re,sys; v=sys.argv[1]; m=re.match(r'([0-9.]+)(us|ms|s)',v); n=float(m.group(1)); print(round(n/1000 if m.group(2)=='us' else n*1000 if m.group(2)=='s' else n,3))" "$1"; }

report() {
  local label=$1 emu=$2 ls=$3
  read -r e_rps e_p99 e_err <<<"$emu"
  read -r l_rps l_p99 l_err <<<"$ls"
  local ratio
  ratio=$(python3 -c "print(round($e_rps/$l_rps, 1))")
  printf '%-28s emulator %10s req/s  p99 %7s ms  non-2xx %s | localstripe %8s req/s  p99 %8s ms  non-2xx %s | ratio %sx\n' \
    "$label" "$e_rps" "$e_p99" "$e_err" "$l_rps" "$l_p99" "$l_err" "$ratio"
  printf '%s\t%s\t%s\t%s\t%s\n' "$e_rps" "$e_p99" "$l_rps" "$l_p99" "$ratio" >> "$WORK/$4"
}

# medians FILE LABEL: the median of each column of a report file.
medians() {
  python3 - "$WORK/$1" "$2" <<'PY'
import statistics, sys
rows = [list(map(float, line.split())) for line in open(sys.argv[1]) if line.strip()]
m = [statistics.median(col) for col in zip(*rows)]
lo = min(r[4] for r in rows); hi = max(r[4] for r in rows)
print(f"{sys.argv[2]:<28} median of {len(rows)}: emulator {m[0]:,.0f} req/s  p99 {m[1]} ms | "
      f"localstripe {m[2]:,.0f} req/s  p99 {m[3]} ms | ratio {m[4]}x (rounds {lo}-{hi}x)")
PY
}

echo "wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s on $(nproc) cores, $ROUNDS rounds"
for round in $(seq 1 "$ROUNDS"); do
  echo "round $round"
  start_servers
  report "retrieve customer (rk_)" \
    "$(run emu "http://127.0.0.1:$EMU_PORT/v1/customers/$EMU_CUS" "$KEY")" \
    "$(run ls "http://127.0.0.1:$LS_PORT/v1/customers/$LS_CUS" "$LS_KEY")" retrieve
  report "create customers" \
    "$(run emu "http://127.0.0.1:$EMU_PORT/v1/customers" "$KEY" "$WORK/post.lua")" \
    "$(run ls "http://127.0.0.1:$LS_PORT/v1/customers" "$LS_KEY" "$WORK/post.lua")" create
done
medians retrieve "retrieve customer (rk_)"
medians create "create customers"

# Memory with exactly 100,000 customers, on a fresh emulator: wrk stops after that many creations.
kill "$EMU_PID"; wait "$EMU_PID" 2>/dev/null || true
target/release/rakguard emulator --port "$EMU_PORT" --keys "$WORK/keys.toml" --seed 2 \
  --rate-limit-per-second 100000000 > "$WORK/emulator.log" 2>&1 &
EMU_PID=$!
wait_up "http://127.0.0.1:$EMU_PORT/v1/customers" "$WORK/emulator.log"
cat > "$WORK/count.lua" <<'LUA'
wrk.method = "POST"
wrk.body = "email=load%40example.com&metadata[run]=bench"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
local done = 0
response = function(status, headers, body)
  done = done + 1
  if done >= 100000 then wrk.thread:stop() end
end
LUA
count() { curl -s "http://127.0.0.1:$EMU_PORT/_emulator/v1/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["objects"].get("customer", 0))'; }
# wrk stops sending after 100,000 answers but waits out its duration, so stop it once they are in.
wrk -t1 -c1 -d600s -H "Authorization: Bearer $KEY" -s "$WORK/count.lua" "http://127.0.0.1:$EMU_PORT/v1/customers" >/dev/null &
WRK_PID=$!
for _ in $(seq 1 1200); do
  [ "$(count)" -ge 100000 ] && break
  sleep 0.5
done
kill "$WRK_PID" 2>/dev/null || true
RSS_KB=$(awk '/^VmRSS:/ {print $2}' "/proc/$EMU_PID/status")
echo "emulator memory: $((RSS_KB / 1024)) MB resident with $(count) customers (and their customer.created events)"
