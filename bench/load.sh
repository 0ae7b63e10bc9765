#!/usr/bin/env bash
# HTTP load figures for quote-host (not a test). See bench/README.md.
#
# What it measures: requests/s and p50/p99 latency, with wrk, of
#   hello       GET /                      a bare axum hello-world (bench/hello), the baseline
#   health      GET /api/health            no auth, one database ping
#   list        GET /api/quotes?limit=20   auth, first page of BENCH_SEED stored quotes
#   calc-1      POST /api/quotes/calculate auth, 1 item, priced by the standard plugin
#   calc-10     POST /api/quotes/calculate auth, 10 items
#   calc-93     POST /api/quotes/calculate auth, the import-calc rule set on the 93-product
#               golden scenario (plugins/import-calc/golden/test_raschet.json), its rates
#               stored first; the answer is checked against every workbook value
#   hello-64, calc-1-64, calc-10-64   the baseline and the calculations again with
#               BENCH_CONNECTIONS_HIGH (64) connections
# each with the same threads and duration, and the ratio of each endpoint's requests/s
# to the baseline's at the same concurrency in the same run.
#
# How to run (from anywhere):   bash bench/load.sh
#   BENCH_THREADS=2 BENCH_CONNECTIONS=32 BENCH_DURATION=15s   the wrk settings (defaults)
#   BENCH_CONNECTIONS_HIGH=64   connections of the *-64 runs
#   BENCH_WARMUP=3s      a discarded wrk run before each measured one
#   BENCH_SEED=500       quotes stored before the list run
#   BENCH_RESULTS=dir    where the raw output goes (default bench/results/<time>, gitignored)
#   Other QUOTE_* variables reach the server (e.g. QUOTE_CALCULATIONS__MAX_IN_FLIGHT_PER_ORG).
#
# What it needs: cargo (builds quote-host and bench/hello in release), curl, and wrk,
# which it installs from Debian (apt-get, as root) when missing. It starts quote-host on
# a fresh temporary SQLite data dir with rate limits and the exchange-rate job off, on a
# free local port, and stops everything it started when it exits, fails or is interrupted.
# It exits non-zero if any response was not the expected 2xx or any socket error occurred.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
THREADS=${BENCH_THREADS:-2}
CONNECTIONS=${BENCH_CONNECTIONS:-32}
CONNECTIONS_HIGH=${BENCH_CONNECTIONS_HIGH:-64}
DURATION=${BENCH_DURATION:-15s}
WARMUP=${BENCH_WARMUP:-3s}
SEED=${BENCH_SEED:-500}
RESULTS=${BENCH_RESULTS:-$BENCH/results/$(date +%Y%m%d-%H%M%S)}

PIDS=()
DATA_DIR=""

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'load.sh: %s\n' "$*" >&2; exit 1; }

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

install_wrk() {
    command -v wrk >/dev/null && return
    [[ $EUID -eq 0 ]] || die "wrk is missing; install it (apt-get install wrk) or run as root"
    log "installing wrk from Debian"
    { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; } || die "cannot install wrk"
}

build() {
    log "building quote-host and bench/hello (release)"
    (cd "$ROOT" && cargo build --release --locked -p quote-host)
    (cd "$BENCH/hello" && CARGO_TARGET_DIR=$TARGET cargo build --release --locked)
    # The calc-93 helper is not measured: a debug build is enough.
    (cd "$ROOT" && cargo build --locked -p quote-tests --bin bench-golden)
    GOLDEN=$TARGET/debug/bench-golden
}

# wait_for_address LOGFILE PID PATTERN: prints the address after PATTERN once logged.
wait_for_address() {
    local file=$1 pid=$2 pattern=$3 address _
    for _ in {1..600}; do
        address=$(grep -o "${pattern}[^ ]*" "$file" 2>/dev/null | head -n1 || true)
        if [[ -n $address ]]; then printf '%s\n' "${address#"$pattern"}"; return; fi
        kill -0 "$pid" 2>/dev/null || die "server $pid exited; see $file"
        sleep 0.1
    done
    die "no '$pattern' in $file after 60 s"
}

start_servers() {
    "$TARGET/release/bench-hello" 127.0.0.1:0 >"$RESULTS/hello.log" 2>&1 &
    PIDS+=("$!")
    HELLO=http://$(wait_for_address "$RESULTS/hello.log" "${PIDS[-1]}" "listening on ")

    DATA_DIR=$(mktemp -d /tmp/quote-host-bench.XXXXXX)
    QUOTE_LISTEN=127.0.0.1:0 \
    QUOTE_DATA_DIR=$DATA_DIR \
    QUOTE_DATABASE__URL=sqlite://$DATA_DIR/quote-host.db \
    QUOTE_RATE_LIMITS__ENABLED=false \
    QUOTE_EXCHANGE_RATES__ENABLED=false \
    QUOTE_HTTP__SHUTDOWN_GRACE_MS=2000 \
        "$TARGET/release/quote-host" serve >"$RESULTS/quote-host.log" 2>&1 &
    PIDS+=("$!")
    HOST=http://$(wait_for_address "$RESULTS/quote-host.log" "${PIDS[-1]}" "quote-host listening address=")
    local _
    for _ in {1..100}; do
        curl -fsS -o /dev/null "$HOST/api/health" 2>/dev/null && break
        sleep 0.1
    done
    API_KEY=$(cat "$DATA_DIR/demo-admin-key.txt")
    log "hello on $HELLO, quote-host on $HOST (data in $DATA_DIR)"
}

# quote_json ITEMS [TITLE]: a RUB quote whose items are all in RUB, so no rate is needed.
quote_json() {
    local items=$1 title=${2:-} i separator=""
    printf '{'
    if [[ -n $title ]]; then printf '"title": "%s", ' "$title"; fi
    printf '"currency": "RUB", "variables": {"markup_percent": "10", "discount_tiers": "10:5,100:12"}, "items": ['
    for ((i = 1; i <= items; i++)); do
        printf '%s{"sku": "SKU-%d", "name": "Part %d", "quantity": "%d", "unit_price": "%d.50", "currency": "RUB"}' \
            "$separator" "$i" "$i" "$((i * 3))" "$((100 + i * 7))"
        separator=", "
    done
    printf ']}\n'
}

# request EXPECTED_STATUS OUTFILE CURL_ARGS...: one request that must answer EXPECTED_STATUS.
request() {
    local expected=$1 out=$2 status
    shift 2
    status=$(curl -sS -o "$out" -w '%{http_code}' "$@")
    [[ $status == "$expected" ]] || die "$* answered $status, not $expected: $(head -c 300 "$out")"
}

seed() {
    log "seeding $SEED quotes"
    local i
    for ((i = 1; i <= SEED; i++)); do
        request 201 /dev/null -H "Authorization: Bearer $API_KEY" -H "Content-Type: application/json" \
            --data "$(quote_json 3 "Seed quote $i")" "$HOST/api/quotes"
    done
    quote_json 1 >"$RESULTS/calc-1.json"
    quote_json 10 >"$RESULTS/calc-10.json"
    log "uploading import-calc and storing the 93-product scenario's rates"
    request 201 "$RESULTS/import-calc.upload" -H "Authorization: Bearer $API_KEY" \
        -H "Content-Type: application/wasm" --data-binary "@$("$GOLDEN" plugin-path import-calc)" \
        "$HOST/api/plugins?name=import"
    "$GOLDEN" prepare "$SCENARIO_93" "sqlite://$DATA_DIR/quote-host.db" import@1 "$RESULTS/calc-93.json"
}

SCENARIO_93=$ROOT/plugins/import-calc/golden/test_raschet.json

# The 93-product answer, from the checked curl request, against every workbook value.
check_calc_93() {
    "$GOLDEN" check "$SCENARIO_93" "$RESULTS/calc-93.response" | tee "$RESULTS/calc-93.check" >&2 \
        || die "calc-93 does not match the workbook; see $RESULTS/calc-93.check"
}

declare -A RPS P50 P99 BAD
ORDER=()
FAILED=()

declare -A CONNS
# measure NAME URL [METHOD BODY_FILE API_KEY]: checks one request, warms up, then
# measures with $CONNECTIONS connections (or $C when set); the raw wrk output goes to
# RESULTS/NAME.txt.
measure() {
    local name=$1 url=$2 method=${3:-GET} body=${4:-} key=${5:-} connections=${C:-$CONNECTIONS}
    local curl_args=(-X "$method")
    if [[ -n $key ]]; then curl_args+=(-H "Authorization: Bearer $key"); fi
    if [[ -n $body ]]; then curl_args+=(-H "Content-Type: application/json" --data-binary "@$body"); fi
    request 200 "$RESULTS/$name.response" "${curl_args[@]}" "$url"

    local wrk_args=(-t"$THREADS" -c"$connections" --timeout 10s --latency -s "$BENCH/wrk.lua" "$url")
    log "$name: $method $url"
    METHOD=$method BODY_FILE=$body API_KEY=$key wrk -d"$WARMUP" "${wrk_args[@]}" >"$RESULTS/$name.warmup.txt"
    METHOD=$method BODY_FILE=$body API_KEY=$key wrk -d"$DURATION" "${wrk_args[@]}" >"$RESULTS/$name.txt"

    local line requests duration p50 p99 bad socket
    line=$(grep '^RESULT ' "$RESULTS/$name.txt") || die "no RESULT line in $RESULTS/$name.txt"
    read -r requests duration p50 p99 bad socket < <(sed -E 's/[a-z_0-9]+=//g; s/^RESULT //' <<<"$line")
    RPS[$name]=$(awk -v r="$requests" -v d="$duration" 'BEGIN { printf "%.0f", r / (d / 1e6) }')
    P50[$name]=$(awk -v v="$p50" 'BEGIN { printf "%.2f", v / 1000 }')
    P99[$name]=$(awk -v v="$p99" 'BEGIN { printf "%.2f", v / 1000 }')
    BAD[$name]="$bad / $socket"
    CONNS[$name]=$connections
    ORDER+=("$name")
    if ((bad > 0 || socket > 0)); then FAILED+=("$name"); fi
}

# The baseline of a run: the hello-world measured with the same connections.
baseline_of() {
    local name
    for name in "${ORDER[@]}"; do
        if [[ ${name%-"$CONNECTIONS_HIGH"} == hello && ${CONNS[$name]} == "$1" ]]; then
            printf '%s\n' "${RPS[$name]}"
            return
        fi
    done
}

report() {
    local name ratio
    printf '\n%-11s %-40s %5s %10s %9s %9s %9s %16s\n' endpoint request conns "req/s" "p50 ms" "p99 ms" "vs hello" "non-2xx/socket"
    for name in "${ORDER[@]}"; do
        ratio=$(awk -v r="${RPS[$name]}" -v b="$(baseline_of "${CONNS[$name]}")" 'BEGIN { printf "%.3f", r / b }')
        printf '%-11s %-40s %5s %10s %9s %9s %9s %16s\n' "$name" "${LABEL[${name%-"$CONNECTIONS_HIGH"}]}" \
            "${CONNS[$name]}" "${RPS[$name]}" "${P50[$name]}" "${P99[$name]}" "$ratio" "${BAD[$name]}"
    done
    printf '\nwrk -t%s -d%s (warm-up %s), %s seeded quotes; vs hello at the same connections; raw output in %s\n' \
        "$THREADS" "$DURATION" "$WARMUP" "$SEED" "$RESULTS"
    printf 'load average before the runs: %s\n' "$(cut -d' ' -f1-3 "$RESULTS/loadavg")"
}

# What else shares the 2 cores matters more than anything here: it goes with the figures.
describe_machine() {
    wrk --version 2>&1 | head -n1 || true
    grep -m1 'model name' /proc/cpuinfo || true
    printf 'cores: %s; commit: %s\n' "$(nproc)" "$(git -C "$ROOT" describe --always --dirty)"
    top -b -n1 | head -n 15
}

declare -A LABEL=(
    [hello]="GET / (axum hello-world)"
    [health]="GET /api/health"
    [list]="GET /api/quotes?limit=20"
    [calc-1]="POST /api/quotes/calculate, 1 item"
    [calc-10]="POST /api/quotes/calculate, 10 items"
    [calc-93]="POST /api/quotes/calculate, import-calc 93"
)

main() {
    mkdir -p "$RESULTS"
    install_wrk
    build
    start_servers
    seed
    describe_machine >"$RESULTS/machine.txt"
    cp /proc/loadavg "$RESULTS/loadavg"
    if pgrep -x rustc >/dev/null; then log "warning: rustc is running meanwhile; figures will be low"; fi
    measure hello "$HELLO/"
    measure health "$HOST/api/health"
    measure list "$HOST/api/quotes?limit=20" GET "" "$API_KEY"
    measure calc-1 "$HOST/api/quotes/calculate" POST "$RESULTS/calc-1.json" "$API_KEY"
    measure calc-10 "$HOST/api/quotes/calculate" POST "$RESULTS/calc-10.json" "$API_KEY"
    measure calc-93 "$HOST/api/quotes/calculate" POST "$RESULTS/calc-93.json" "$API_KEY"
    check_calc_93
    C=$CONNECTIONS_HIGH measure "hello-$CONNECTIONS_HIGH" "$HELLO/"
    C=$CONNECTIONS_HIGH measure "calc-1-$CONNECTIONS_HIGH" "$HOST/api/quotes/calculate" POST "$RESULTS/calc-1.json" "$API_KEY"
    C=$CONNECTIONS_HIGH measure "calc-10-$CONNECTIONS_HIGH" "$HOST/api/quotes/calculate" POST "$RESULTS/calc-10.json" "$API_KEY"
    report | tee "$RESULTS/table.txt"
    ((${#FAILED[@]} == 0)) || die "non-2xx responses or socket errors in: ${FAILED[*]} (see $RESULTS)"
}

main "$@"
