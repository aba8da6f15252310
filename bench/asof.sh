#!/usr/bin/env bash
# As-of reads of a long series: `canary indicators --tf 1m --ind rsi:14 --last 1` on the
# 5M-bar store that bench/import.sh builds (it is built here if missing). Prints the time and
# peak memory of that read and of the whole series (`--format csv`, every row).
set -euo pipefail
cd "$(dirname "$0")/.."
out=target/bench
db="$out/canary.db"
[ -s "$db" ] || bash bench/import.sh > /dev/null
cargo build --release --quiet -p canary
echo "processor: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs) ($(nproc) cores); $(date -u +%Y-%m-%d)"
for args in "--last 1" "--format csv"; do
  /usr/bin/time -f "%e s, peak %M KB" -o "$out/asof.txt" target/release/canary --db "$db" indicators \
    --symbol SIM:BTCUSDT --tf 1m --ind rsi:14 $args > /dev/null 2>&1
  echo "indicators --ind rsi:14 $args: $(cat "$out/asof.txt")"
done
