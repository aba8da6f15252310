#!/usr/bin/env bash
# Canary against TA-Lib 0.8.2 on the same 10M-bar series, in one run.
# Installs TA-Lib (PyPI wheel) and numpy into a virtualenv under target/, builds the
# bench_vs_talib example in release mode, and prints ns/element and ratios per indicator.
# Usage: bench/talib.sh [BARS]   (default 10000000)
set -euo pipefail
cd "$(dirname "$0")/.."
bars="${1:-10000000}"
venv=target/talib-venv
out=target/bench
mkdir -p "$out"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check "TA-Lib==0.8.2" numpy
field() { grep -m1 "^$1" /proc/cpuinfo | cut -d: -f2- | xargs; }
avx512=no
grep -qw avx512f /proc/cpuinfo && avx512=yes
echo "processor: $(field 'model name') (family $(field 'cpu family'), model $(field 'model\s*:'), AVX-512 $avx512; $(nproc) cores); CANARY_SIMD=${CANARY_SIMD:-unset}; $(date -u +%Y-%m-%d)"
echo "building and timing Canary ($bars bars)..." >&2
cargo run --quiet --release -p canary-analytics --example bench_vs_talib -- "$out/series.bin" "$bars" > "$out/canary.tsv"
echo "timing TA-Lib..." >&2
"$venv/bin/python" bench/talib_compare.py "$out/series.bin" "$out/canary.tsv"
