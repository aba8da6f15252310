#!/usr/bin/env bash
# What the browser tests drive: Debian's chromium and playwright-core from npm (in
# .browser-test, pinned). Installs what is missing; prints "CHROMIUM NODE_MODULES".
set -euo pipefail
cd "$(dirname "$0")/.."
PLAYWRIGHT=playwright-core@1.65.1
if ! command -v chromium >/dev/null 2>&1; then
    echo "test-browser: installing chromium (Debian)" >&2
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q chromium >&2
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "test-browser: installing npm (Debian)" >&2
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q npm >&2
fi
if [ "$(cat .browser-test/.deps 2>/dev/null)" != "$PLAYWRIGHT" ]; then
    mkdir -p .browser-test
    npm install --silent --no-audit --no-fund --prefix .browser-test "$PLAYWRIGHT" >&2
    echo "$PLAYWRIGHT" > .browser-test/.deps
fi
echo "$(command -v chromium) $PWD/.browser-test/node_modules"
