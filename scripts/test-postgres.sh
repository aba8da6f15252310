#!/usr/bin/env bash
# A PostgreSQL server for the tests, on loopback only, in a temporary folder of its own.
#
#   scripts/test-postgres.sh start   prints "ADDRESS FOLDER": the address to give the tests
#                                    (postgres://canary@127.0.0.1:PORT, no database named)
#                                    and the folder that `stop` takes
#   scripts/test-postgres.sh stop FOLDER
#
# Installs Debian's postgresql package first when no `initdb` is found. The server runs as
# the `postgres` user when this runs as root (PostgreSQL refuses to run as root), trusts
# connections from loopback only, and trades durability for speed (fsync off): it holds
# nothing but test data, and is removed by `stop`. With PG_DURABLE=1 it keeps PostgreSQL's
# durable defaults (fsync, synchronous commit), as a benchmark must.
set -euo pipefail

bindir() {
    local d
    if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
        pg_config --bindir
        return
    fi
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [ -x "$d/initdb" ]; then
            echo "$d"
            return
        fi
    done
}

as_server() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

case "${1:-}" in
start)
    BIN="$(bindir)"
    if [ -z "$BIN" ]; then
        echo "test-postgres: installing postgresql (Debian)" >&2
        SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
        $SUDO apt-get install -y -q postgresql >&2
        BIN="$(bindir)"
        [ -n "$BIN" ] || { echo "test-postgres: no initdb after installing postgresql" >&2; exit 1; }
    fi
    DIR="$(mktemp -d "${TMPDIR:-/tmp}/canary-pg.XXXXXX")"
    chmod 755 "$DIR"
    mkdir "$DIR/data"
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres: "$DIR" "$DIR/data"
    fi
    PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    as_server "$BIN/initdb" -D "$DIR/data" --username=canary --auth=trust \
        --encoding=UTF8 --locale=C >"$DIR/initdb.log" 2>&1 \
        || { cat "$DIR/initdb.log" >&2; exit 1; }
    # In the server's own configuration, so that a restart (pg_ctl stop, then start) finds it.
    cat >>"$DIR/data/postgresql.conf" <<CONF
port = $PORT
unix_socket_directories = '$DIR'
listen_addresses = '127.0.0.1'
max_connections = 200
CONF
    if [ "${PG_DURABLE:-0}" != 1 ]; then
        printf 'fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n' \
            >>"$DIR/data/postgresql.conf"
    fi
    as_server "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 start \
        >&2 || { cat "$DIR/server.log" >&2; exit 1; }
    echo "postgres://canary@127.0.0.1:$PORT $DIR"
    ;;
stop)
    DIR="${2:?test-postgres: stop needs the folder that start printed}"
    BIN="$(bindir)"
    if [ -d "$DIR/data" ]; then
        as_server "$BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    case "$DIR" in
    */canary-pg.*) rm -rf "$DIR" ;;
    esac
    ;;
*)
    echo "usage: scripts/test-postgres.sh start | stop FOLDER" >&2
    exit 2
    ;;
esac
