#!/usr/bin/env bash
# The whole `rakguard verify` command against the emulator adding 100 ms to every request:
# Selgeo's manifest (8 permissions) with the default settings, and the same requests one at a
# time (--max-in-flight 1). Target: under 0.6 s for the command, at least 4x faster than one at
# a time. The library-level figures (and scan) come from
# `cargo bench -p rakguard-verify --bench verify`.
#
#   bash bench/verify.sh [runs]        # default 5 runs each; prints medians
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
PORT=${EMU_PORT:-12181}
WORK=$(mktemp -d)
cleanup() { kill "${EMU_PID:-}" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

cargo build --release --quiet -p rakguard
BIN=target/release/rakguard
RK=rk_test_$(printf 'v%.0s' $(seq 1 40))
SK=sk_test_$(printf 's%.0s' $(seq 1 40))
cat > "$WORK/keys.toml" <<TOML
[[key]]
name = "selgeo"
type = "restricted"
mode = "test"
secret = "$RK"
permissions = ["checkout_session_read", "charge_read", "balance_transaction_source_read",
               "customer_read", "invoice_read", "promotion_code_write", "coupon_write",
               "Webhook Endpoints: Write"]

[[key]]
name = "seed"
type = "secret"
mode = "test"
secret = "$SK"
TOML
"$BIN" emulator --port "$PORT" --keys "$WORK/keys.toml" --seed 1 --latency-ms 100 \
  > "$WORK/emulator.log" 2>&1 &
EMU_PID=$!
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/v1/customers" && break; sleep 0.1; done
kill -0 "$EMU_PID" 2>/dev/null || { echo "the emulator did not start:" >&2; cat "$WORK/emulator.log" >&2; exit 1; }
# One paid charge, so the balance transaction probe has a source to expand.
curl -s -o /dev/null -u "$SK:" -d amount=1000 -d currency=usd -d payment_method=pm_card_visa \
  -d confirm=true "http://127.0.0.1:$PORT/v1/payment_intents"

measure() { # prints milliseconds of one run of the command with extra flags "$@"
  local start end
  start=$(date +%s%N)
  STRIPE_API_KEY=$RK "$BIN" verify --manifest examples/manifests/selgeo.toml \
    --api-base "http://127.0.0.1:$PORT" --format json "$@" > "$WORK/out.json" || {
      echo "verify failed:" >&2; cat "$WORK/out.json" >&2; exit 1; }
  end=$(date +%s%N)
  echo $(( (end - start) / 1000000 ))
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

for _ in $(seq 1 "$RUNS"); do measure; done > "$WORK/parallel"
REQUESTS=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["requests"])' "$WORK/out.json")
for _ in $(seq 1 "$RUNS"); do measure --max-in-flight 1; done > "$WORK/sequential"
P=$(median < "$WORK/parallel"); S=$(median < "$WORK/sequential")
echo "rakguard verify, selgeo (8 permissions, $REQUESTS requests), emulator latency 100 ms, $RUNS runs, medians"
echo "  whole command, parallel:      ${P} ms  (target < 600 ms)"
echo "  whole command, one at a time: ${S} ms"
python3 -c "print(f'  ratio {int(\"$S\")/int(\"$P\"):.2f}x (target >= 4x)')"
