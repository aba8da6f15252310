#!/usr/bin/env bash
# Import speed, memory and size against SQLite's own CSV import, in one run.
# Usage: bench/import.sh [BARS]   (default 5,000,000 one-minute bars, about 460 MB of CSV)
# Prints both times, their ratio, peak memory and bytes per bar on disk.
set -euo pipefail
cd "$(dirname "$0")/.."
bars="${1:-5000000}"
out=target/bench
mkdir -p "$out"
command -v sqlite3 >/dev/null || { echo "installing sqlite3 (Debian package)" >&2; apt-get install -y sqlite3 >/dev/null; }
cargo build --release --quiet -p canary
bin=target/release/canary
csv="$out/sim_1m_$bars.csv"
if [ ! -s "$csv" ]; then
  echo "writing $csv ..." >&2
  "$bin" simulate --tf 1m --bars "$bars" --scenario calm --seed 5 --start 2016-01-04 -o "$csv" 2>/dev/null
fi
echo "processor: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs) ($(nproc) cores); $(date -u +%Y-%m-%d)"
echo "file: $csv, $(du -m "$csv" | cut -f1) MB, $bars bars"

measure() { # label, db, command...: prints seconds and peak KB
  local label=$1 db=$2; shift 2
  rm -f "$db" "$db-wal" "$db-shm"
  /usr/bin/time -f "%e %M" -o "$out/time.txt" "$@" > /dev/null
  read -r secs kb < "$out/time.txt"
  bytes=$(stat -c %s "$db")
  printf '%-16s %7.1f s  peak %6d MB  %8d MB on disk  %5.1f B/bar\n' \
    "$label" "$secs" "$((kb / 1024))" "$((bytes / 1048576))" "$(echo "$bytes / $bars" | bc -l)"
  echo "$secs"  > "$out/$label.secs"
}

measure "sqlite3 .import" "$out/sqlite.db" sqlite3 "$out/sqlite.db" \
  "CREATE TABLE bars (time TEXT PRIMARY KEY, open REAL, high REAL, low REAL, close REAL, volume REAL, quote_volume REAL, trades INTEGER, simulated TEXT) WITHOUT ROWID;" \
  ".import --csv --skip 1 $csv bars"
measure "canary import" "$out/canary.db" "$bin" --db "$out/canary.db" import "$csv" --symbol SIM:BTCUSDT
ratio="$(echo "$(cat "$out/canary import.secs") / $(cat "$out/sqlite3 .import.secs")" | bc -l)"
printf 'ratio canary / sqlite3: %.3f (target <= 0.5)\n' "$ratio"
# A miss fails the bench (make bench-import exits non-zero), so a regression shows.
if [ "$(echo "$ratio > 0.5" | bc -l)" = 1 ]; then
  echo "target NOT met"
  exit 1
fi
