#!/usr/bin/env bash
# The load runs of docs/performance.md, on release builds, generator and CSMS on the same machine.
#
#   Tests/load/bench.sh round BEFORE AFTER     the echo peer on each transport, then the bridge of BEFORE and of
#                                              AFTER: 100 charge points, closed loop, Heartbeat, 15 s each
#   Tests/load/bench.sh threads BIN            CPU per thread of the bridge over 5 s of that closed loop, and
#                                              the SQLite writer's CPU per tag write
#   Tests/load/bench.sh tenk BIN               10,000 charge points at 0.1 CALL/s (MeterValues ×3, Heartbeat)
#   Tests/load/bench.sh authorize BIN CPS RATE script-decided Authorize (the shipped scripts), CPS × RATE/s
#   Tests/load/bench.sh proxy BIN              latency the bridge adds in proxy mode: the echo peer as upstream
#
# BIN, BEFORE and AFTER are folders holding `ocpp-bridge` and `ocpp-bench`, for instance
# `$(swift build -c release --show-bin-path)` (build both products with `-c release` first). The generator is
# AFTER's (or BIN's) `ocpp-bench`, the same for every run of a round. Each bridge run starts on a fresh
# database in $BENCH_DIR (default /tmp/ocpp-bridge-bench); ports 19100 (echo), 19200 (OCPP), 19280 (REST).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=${BENCH_DIR:-/tmp/ocpp-bridge-bench}
mkdir -p "$WORK"
BRIDGE_ARGS=(--ocpp-port 19200 --api-port 19280 --log-level warning --mappings "$ROOT/mappings"
    --config "$ROOT/Tests/load/bench-config.yaml")
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

# Starts a bridge from folder $1 on a fresh database with the extra arguments that follow; sets BRIDGE_PID.
start_bridge() {
    local bin=$1; shift
    rm -rf "$WORK/db" && mkdir -p "$WORK/db"
    "$bin/ocpp-bridge" serve --db "$WORK/db/bridge.sqlite" "${BRIDGE_ARGS[@]}" "$@" > "$WORK/bridge.log" 2>&1 &
    BRIDGE_PID=$!
    PIDS+=("$BRIDGE_PID")
    sleep 2
}

stop() { kill -9 "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# Starts the echo peer from folder $1 on transport $2; sets ECHO_PID.
start_echo() {
    "$1/ocpp-bench" echo --port 19100 --transport "$2" > "$WORK/echo.log" 2>&1 &
    ECHO_PID=$!
    PIDS+=("$ECHO_PID")
    sleep 1
}

# One closed-loop run with generator $1 against URL $2, CSMS pid $3; prints calls/s, CSMS CPU, p99 and errors.
closed_loop() {
    local out
    out=$("$1/ocpp-bench" run --url "$2" --chargepoints 100 --seconds 15 --pid "$3" 2>&1) || true
    echo "calls/s $(awk '/^calls\/s/{print $2}' <<< "$out")" \
        "errors $(awk '/^calls\/s/{print $6}' <<< "$out")" \
        "p99 $(grep -oE 'p99 [0-9]+' <<< "$out" | awk '{print $2}') µs" \
        "CSMS CPU $(awk '/CSMS CPU/{print $3}' <<< "$out")" \
        "RSS $(awk '/CSMS RSS/{print $3, $4}' <<< "$out")"
}

round() {
    local before=$1 after=$2
    for transport in hummingbird nio; do
        start_echo "$after" "$transport"
        echo "echo peer ($transport): $(closed_loop "$after" ws://127.0.0.1:19100/ocpp "$ECHO_PID")"
        stop "$ECHO_PID"
    done
    for bin in "$before" "$after"; do
        start_bridge "$bin" --no-scripts
        echo "bridge $bin: $(closed_loop "$after" ws://127.0.0.1:19200/ocpp "$BRIDGE_PID")"
        stop "$BRIDGE_PID"
    done
}

# CPU ticks of every thread of process $1: "tid name ticks" per line.
thread_ticks() {
    for task in /proc/"$1"/task/*; do
        echo "$(basename "$task") $(tr ' ' _ < "$task/comm") $(awk '{print $14 + $15}' "$task/stat")"
    done | sort
}

flushed_writes() {
    curl -s http://127.0.0.1:19280/metrics | awk '/^ocpp_bridge_tag_writes_flushed_total/{print $2}'
}

threads() {
    local bin=$1
    start_bridge "$bin" --no-scripts
    "$bin/ocpp-bench" run --url ws://127.0.0.1:19200/ocpp --chargepoints 100 --seconds 12 --pid "$BRIDGE_PID" \
        > "$WORK/run.txt" 2>&1 &
    local generator=$!
    sleep 5
    local w1 w2
    w1=$(flushed_writes); thread_ticks "$BRIDGE_PID" > "$WORK/ticks1"
    sleep 5
    w2=$(flushed_writes); thread_ticks "$BRIDGE_PID" > "$WORK/ticks2"
    wait "$generator" || true
    # Ticks are 1/100 s: over 5 s, ticks / 5 is % of a core. A Heartbeat writes 2 tags.
    join "$WORK/ticks1" "$WORK/ticks2" | awk -v writes=$(( (w2 - w1) / 5 )) '
        { cpu = ($5 - $3) / 5; if (cpu >= 5) printf "%s %d%%  ", $2, cpu
          if ($2 ~ /NIO-SGLTN/) loops += cpu
          if ($2 ~ /overcommit/ && cpu > writer) writer = cpu }
        END { printf "\ntag writes/s %d; event loops %.1f µs per Heartbeat; SQLite writer %.1f µs per tag write\n",
              writes, loops * 10000 / (writes / 2), writer * 10000 / writes }'
    grep -E '^calls/s' "$WORK/run.txt"
    stop "$BRIDGE_PID"
}

tenk() {
    local bin=$1
    ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"  # 10,000 sockets in each process
    start_bridge "$bin" --no-scripts
    "$bin/ocpp-bench" run --url ws://127.0.0.1:19200/ocpp --chargepoints 10000 --mode rate --rate 0.1 \
        --messages meter,meter,meter,heartbeat --seconds 30 --warmup 5 --connect-rate 500 --pid "$BRIDGE_PID" \
        --id-prefix TENK 2>&1 | grep -E '^calls/s|p99|CSMS'
    stop "$BRIDGE_PID"
}

authorize() {
    local bin=$1 cps=$2 rate=$3
    rm -rf "$WORK/scripts" && cp -r "$ROOT/scripts" "$WORK/scripts"
    start_bridge "$bin" --scripts "$WORK/scripts"
    "$bin/ocpp-bench" run --url ws://127.0.0.1:19200/ocpp --mode rate --messages authorize --chargepoints "$cps" \
        --rate "$rate" --seconds 15 --warmup 3 --pid "$BRIDGE_PID" 2>&1 | grep -E '^calls/s|p99|CSMS CPU'
    stop "$BRIDGE_PID"
}

proxy() {
    local bin=$1
    start_echo "$bin" nio
    start_bridge "$bin" --no-scripts --upstream ws://127.0.0.1:19100/ocpp
    echo "direct:  $("$bin/ocpp-bench" run --url ws://127.0.0.1:19100/ocpp --messages authorize --chargepoints 1 \
        --seconds 10 2>&1 | grep -E 'p99')"
    echo "bridged: $("$bin/ocpp-bench" run --url ws://127.0.0.1:19200/ocpp --messages authorize --chargepoints 1 \
        --seconds 10 --pid "$BRIDGE_PID" 2>&1 | grep -E 'p99')"
    stop "$BRIDGE_PID"
    stop "$ECHO_PID"
}

case "${1:-}" in
    round) round "$2" "$3" ;;
    threads) threads "$2" ;;
    tenk) tenk "$2" ;;
    authorize) authorize "$2" "$3" "$4" ;;
    proxy) proxy "$2" ;;
    *) sed -n '2,15p' "$0"; exit 2 ;;
esac
