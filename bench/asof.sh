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
# Targets: the last value under 300 MB; every row of the 5M in at most 1 s and 100 MB (issue
# 24). A miss fails the bench (make bench-asof exits non-zero), so a regression shows.
missed=0
for run in "--last 1:1000:300" "--format csv:1:100"; do
  IFS=: read -r args max_s max_mb <<< "$run"
  /usr/bin/time -f "%e %M" -o "$out/asof.txt" target/release/canary --db "$db" indicators \
    --symbol SIM:BTCUSDT --tf 1m --ind rsi:14 $args > /dev/null 2>&1
  read -r secs kb < "$out/asof.txt"
  mb=$((kb / 1024))
  verdict=met
  if [ "$(echo "$secs > $max_s" | bc -l)" = 1 ] || [ "$mb" -gt "$max_mb" ]; then
    verdict="NOT met"
    missed=1
  fi
  echo "indicators --ind rsi:14 $args: $secs s, peak $mb MB (target <= $max_s s, <= $max_mb MB: $verdict)"
done
exit "$missed"
