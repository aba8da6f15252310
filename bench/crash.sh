#!/usr/bin/env bash
# Crash safety, measured (bench/crash.py): SIGKILL during import, resample and network import,
# then integrity, all-or-nothing and re-run checks. `make crash`; the counts go in
# bench/README.md with the processor they ran on.
set -euo pipefail
cd "$(dirname "$0")/.."
kills="${1:-100}"
cargo build --release --quiet -p canary
grep -m1 'model name' /proc/cpuinfo || true
python3 bench/crash.py target/release/canary ../shared/data "$kills"
