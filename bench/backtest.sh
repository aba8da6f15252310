#!/usr/bin/env bash
# The track record's backtest as docs/track-record.md runs it (the daily bars imported, then
# `canary backtest scores`), timed in a release build on a store of its own.
set -euo pipefail
cd "$(dirname "$0")/.."
out=target/bench
mkdir -p "$out"
db="$out/backtest.db"
rm -f "$db"
cargo build --release --quiet -p canary
bin=target/release/canary
echo "processor: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs) (family $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2- | xargs); $(nproc) cores); $(date -u +%Y-%m-%d)"
"$bin" --db "$db" import ../shared/data/btcusdt_binance_1d.csv --symbol BTCUSDT > /dev/null
/usr/bin/time -f "%e %M" -o "$out/backtest.txt" \
  "$bin" --db "$db" backtest scores --symbol BTCUSDT --to 2026-06-15T00:00:00Z > /dev/null
read -r secs kb < "$out/backtest.txt"
echo "canary backtest scores --symbol BTCUSDT --to 2026-06-15T00:00:00Z: $secs s, peak $((kb / 1024)) MB"
