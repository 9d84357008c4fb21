#!/bin/sh
# bench/api/run.sh - the control API's throughput on one core (bench/README.md,
# "API throughput"): creates ACCOUNTS accounts in a fresh data directory,
# starts the server pinned to core 0, and runs onair-apibench pinned to core 1
# with CONNECTIONS keep-alive connections for SECONDS seconds.
#
#   bench/api/run.sh                     # build/onair and build/onair-apibench
#   BUILD=/path/to/build ACCOUNTS=1000 CONNECTIONS=64 SECONDS=10 bench/api/run.sh
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
ACCOUNTS=${ACCOUNTS:-1000}
CONNECTIONS=${CONNECTIONS:-64}
SECONDS_=${SECONDS:-10}
ACTION=${ACTION:-DescribeLiveUserDomains}
PORT=${PORT:-18931}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}

for b in "$BUILD/onair" "$BUILD/onair-apibench"; do
    [ -x "$b" ] || { echo "missing $b (cmake --build $BUILD)"; exit 1; }
done
dir=$(mktemp -d /tmp/onair-apibench-XXXXXX)
pid=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT INT TERM

# The first port pair from PORT on where nothing answers yet.
# (curl exits 7 when nothing listens; anything else means something does)
busy() {
    rc=0
    curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$1/" || rc=$?
    [ "$rc" -ne 7 ]
}
while busy "$PORT" || busy "$((PORT + 1))"; do PORT=$((PORT + 2)); done

"$BUILD/onair-apibench" --setup-accounts "$ACCOUNTS" --data "$dir" --keys "$dir/keys.txt"
taskset -c "$SERVER_CPU" "$BUILD/onair" --data "$dir" --http "127.0.0.1:$PORT" \
    --rtmp "127.0.0.1:$((PORT + 1))" --set log_level=warn 2>"$dir/server.log" &
pid=$!
i=0
until curl -s -o /dev/null "http://127.0.0.1:$PORT/"; do
    kill -0 "$pid" 2>/dev/null || { cat "$dir/server.log"; exit 1; }
    i=$((i + 1))
    [ $i -lt 100 ] || { cat "$dir/server.log"; exit 1; }
    sleep 0.05
done
echo "server pid $pid on CPU $SERVER_CPU, client on CPU $CLIENT_CPU ($(nproc) CPUs); load average: $(cat /proc/loadavg)"
taskset -c "$CLIENT_CPU" "$BUILD/onair-apibench" --url "http://127.0.0.1:$PORT" \
    --keys "$dir/keys.txt" --connections "$CONNECTIONS" --seconds "$SECONDS_" --action "$ACTION" \
    --server-pid "$pid"
echo "load average: $(cat /proc/loadavg)"
