#!/usr/bin/env bash
# The bus across processes (issue 23): a three-server NATS JetStream cluster and PostgreSQL
# started on loopback (scripts/cluster.sh servers), then a bench of crates/canary-runtime:
#   bench/bus.sh          benches/bus.rs: events/s published with three copies, and events/s
#                         taken from the bus into bars stored in PostgreSQL
#   bench/bus.sh latency  benches/latency.rs: a bar's close to its webhook, p50 and p99,
#                         steady and across an evaluator's crash
# each printed with the processor. Exits non-zero when a target is missed.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR="$(mktemp -d "${TMPDIR:-/tmp}/canary-bench-bus.XXXXXX")"
export CLUSTER_DIR="$DIR/cluster"
# PostgreSQL as users run it: every commit synced to disk.
export PG_DURABLE=1
trap 'bash scripts/cluster.sh stop >/dev/null; rm -rf "$DIR"' EXIT
OUT="$(bash scripts/cluster.sh servers)"
CANARY_BENCH_NATS="$(echo "$OUT" | sed -n 's/^bus: *//p')"
CANARY_BENCH_POSTGRES="$(echo "$OUT" | sed -n 's/^server: *//p')"
export CANARY_BENCH_NATS CANARY_BENCH_POSTGRES
cargo bench -p canary-runtime --bench "${1:-bus}"
