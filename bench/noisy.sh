#!/usr/bin/env bash
# The noisy neighbour, over HTTP (not a test; see bench/README.md and README's Fair share).
#
# Tenant B prices a 1-item quote with the standard plugin, one request at a time
# (wrk -t1 -c1), first alone, then while tenant A keeps NOISY_CALLERS (16) calculations
# of a hostile plugin in flight: `loop-pure` (spins until its fuel runs out, 422) and
# `loop-sleep` (blocked in a WASI sleep until its time limit, 408). It prints B's req/s,
# p50 and p99 in each case and the ratios to B alone.
#
# How to run (from anywhere):   bash bench/noisy.sh
#   BENCH_DURATION=10s    each measured wrk run (default)
#   NOISY_CALLERS=16      A's concurrent calls
#   BENCH_RESULTS=dir     raw output (default bench/results/noisy-<time>, gitignored)
#   Other QUOTE_* variables reach the server (e.g. QUOTE_CALCULATIONS__EXECUTOR_THREADS).
#
# It builds quote-host in release, starts it on a fresh temporary SQLite data dir (rate
# limits and the exchange-rate job off, A's per-organization cap raised to its callers
# so all of them reach the executor), creates A with the CLI, and stops everything it
# started when it exits. Needs cargo, curl and wrk (installed from Debian when missing,
# as root). It exits non-zero if any of B's responses was not 200.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
DURATION=${BENCH_DURATION:-10s}
CALLERS=${NOISY_CALLERS:-16}
RESULTS=${BENCH_RESULTS:-$BENCH/results/noisy-$(date +%Y%m%d-%H%M%S)}
PLUGINS=$ROOT/plugins/target/wasm32-wasip2/release

PIDS=()
DATA_DIR=""

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'noisy.sh: %s\n' "$*" >&2; exit 1; }

cleanup() {
    local status=$? pid _
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do
        for _ in {1..50}; do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [[ -n $DATA_DIR ]]; then rm -rf "$DATA_DIR"; fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

command -v wrk >/dev/null || {
    [[ $EUID -eq 0 ]] || die "wrk is missing; install it (apt-get install wrk) or run as root"
    log "installing wrk from Debian"
    { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; } || die "cannot install wrk"
}

mkdir -p "$RESULTS"
log "building quote-host (release)"
(cd "$ROOT" && cargo build --release --locked -p quote-host)
HOST_BIN=$TARGET/release/quote-host

DATA_DIR=$(mktemp -d /tmp/quote-host-noisy.XXXXXX)
export QUOTE_DATA_DIR=$DATA_DIR QUOTE_DATABASE__URL=sqlite://$DATA_DIR/quote-host.db
QUOTE_LISTEN=127.0.0.1:0 QUOTE_RATE_LIMITS__ENABLED=false QUOTE_EXCHANGE_RATES__ENABLED=false \
QUOTE_HTTP__SHUTDOWN_GRACE_MS=1000 QUOTE_CALCULATIONS__MAX_IN_FLIGHT_PER_ORG=$CALLERS \
    "$HOST_BIN" serve >"$RESULTS/quote-host.log" 2>&1 &
PIDS+=("$!")
HOST=""
for _ in {1..600}; do
    HOST=$(grep -o 'quote-host listening address=[^ ]*' "$RESULTS/quote-host.log" 2>/dev/null | head -n1 || true)
    [[ -n $HOST ]] && break
    kill -0 "${PIDS[-1]}" 2>/dev/null || die "the server exited; see $RESULTS/quote-host.log"
    sleep 0.1
done
[[ -n $HOST ]] || die "the server did not start"
HOST=http://${HOST#quote-host listening address=}
until curl -fsS -o /dev/null "$HOST/api/health"; do sleep 0.1; done
B_KEY=$(cat "$DATA_DIR/demo-admin-key.txt")
"$HOST_BIN" org create noisy --no-plugin >/dev/null
A_KEY=$("$HOST_BIN" key create --org noisy --role admin | tr -d '[:space:]')
for plugin in loop_pure loop_sleep; do
    status=$(curl -sS -o "$RESULTS/upload-$plugin.json" -w '%{http_code}' -H "Authorization: Bearer $A_KEY" \
        -H 'Content-Type: application/wasm' --data-binary "@$PLUGINS/hostile_$plugin.wasm" \
        "$HOST/api/plugins?name=${plugin/_/-}")
    [[ $status == 201 ]] || die "uploading $plugin answered $status"
done
body() { printf '{"currency": "RUB", %s"items": [{"sku": "A-1", "quantity": "1", "unit_price": "10", "currency": "RUB"}]}\n' "$1"; }
body "" >"$RESULTS/b.json"
body '"plugin": "loop-pure@1", ' >"$RESULTS/a-loop-pure.json"
body '"plugin": "loop-sleep@1", ' >"$RESULTS/a-loop-sleep.json"
curl -fsS -o /dev/null -H "Authorization: Bearer $B_KEY" -H 'Content-Type: application/json' \
    --data-binary "@$RESULTS/b.json" "$HOST/api/quotes/calculate" || die "B's calculation fails"

declare -A RPS P50 P99
# b_run NAME: B's closed loop for DURATION; its figures.
b_run() {
    local name=$1 line requests duration p50 p99 bad socket
    METHOD=POST BODY_FILE=$RESULTS/b.json API_KEY=$B_KEY wrk -t1 -c1 -d"$DURATION" --latency \
        -s "$BENCH/wrk.lua" "$HOST/api/quotes/calculate" >"$RESULTS/$name.txt"
    line=$(grep '^RESULT ' "$RESULTS/$name.txt") || die "no RESULT in $RESULTS/$name.txt"
    read -r requests duration p50 p99 bad socket < <(sed -E 's/[a-z_0-9]+=//g; s/^RESULT //' <<<"$line")
    ((bad == 0 && socket == 0)) || die "$name: $bad non-2xx answers, $socket socket errors for B"
    RPS[$name]=$(awk -v r="$requests" -v d="$duration" 'BEGIN { printf "%.0f", r / (d / 1e6) }')
    P50[$name]=$(awk -v v="$p50" 'BEGIN { printf "%.2f", v / 1000 }')
    P99[$name]=$(awk -v v="$p99" 'BEGIN { printf "%.2f", v / 1000 }')
}

# flood PLUGIN: A's callers in the background for the measured run and a little more.
flood() {
    METHOD=POST BODY_FILE=$RESULTS/a-$1.json API_KEY=$A_KEY wrk -t1 -c"$CALLERS" \
        -d"$(( ${DURATION%s} + 8 ))s" --timeout 120s -s "$BENCH/wrk.lua" "$HOST/api/quotes/calculate" \
        >"$RESULTS/a-$1.txt" 2>&1 &
    PIDS+=("$!")
    sleep 3
}

# drain: waits until A's calls have left the executor (a closed connection cancels them).
drain() {
    local _
    for _ in {1..600}; do
        curl -fsS -H "Authorization: Bearer $B_KEY" "$HOST/api/health/detailed" | grep -q '"calls":0,' && return
        sleep 0.1
    done
    die "A's calls did not leave the executor within 60 s"
}

log "B alone"
b_run alone
log "B while A floods with loop-pure x$CALLERS"
flood loop-pure
b_run loop-pure
wait "${PIDS[-1]}" || true
drain
log "B while A floods with loop-sleep x$CALLERS"
flood loop-sleep
b_run loop-sleep
curl -fsS -H "Authorization: Bearer $B_KEY" "$HOST/api/health/detailed" >"$RESULTS/health-during-sleep.json" || true
wait "${PIDS[-1]}" || true

{
    printf '\n%-28s %9s %9s %9s %9s %9s %12s\n' "B's 1-item calculations" "req/s" "p50 ms" "p99 ms" "p50 x" "p99 x" "throughput"
    for name in alone loop-pure loop-sleep; do
        printf '%-28s %9s %9s %9s %9s %9s %12s\n' "$name" "${RPS[$name]}" "${P50[$name]}" "${P99[$name]}" \
            "$(awk -v a="${P50[$name]}" -v b="${P50[alone]}" 'BEGIN { printf "%.1f", a / b }')" \
            "$(awk -v a="${P99[$name]}" -v b="${P99[alone]}" 'BEGIN { printf "%.1f", a / b }')" \
            "$(awk -v a="${RPS[$name]}" -v b="${RPS[alone]}" 'BEGIN { printf "%.0f %%", 100 * a / b }')"
    done
    printf '\nwrk -t1 -c1 -d%s for B; A: wrk -t1 -c%s; %s cores, load average %s; commit %s\n' \
        "$DURATION" "$CALLERS" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)" "$(git -C "$ROOT" describe --always --dirty)"
} | tee "$RESULTS/table.txt"
