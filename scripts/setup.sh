#!/usr/bin/env bash
# Create .venv with a Python that runs Depthdesk and install the project with its dev tools.
# Prefers Python 3.12 (3.13 next); falls back to 3.11, where pyproject pins PySide6 below 6.12.
# Installs the system libraries Qt needs when they are missing (Debian/Ubuntu, as root or via sudo).
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {
    local candidates=()
    if command -v pyenv >/dev/null 2>&1; then
        local root; root="$(pyenv root)"
        for v in "$root"/versions/3.12.* "$root"/versions/3.13.* "$root"/versions/3.11.*; do
            [ -x "$v/bin/python3" ] && candidates+=("$v/bin/python3")
        done
    fi
    candidates+=(python3.12 python3.13 python3.11 python3)
    for c in "${candidates[@]}"; do
        if "$c" -c 'import sys, ensurepip; assert (3, 11) <= sys.version_info[:2] < (3, 14)' >/dev/null 2>&1; then
            echo "$c"; return 0
        fi
    done
    return 1
}

install_qt_system_libs() {
    local missing=() ldconfig_bin
    ldconfig_bin="$(command -v ldconfig || echo /sbin/ldconfig)"
    for lib in libEGL.so.1 libGL.so.1 libxkbcommon.so.0 libfontconfig.so.1 libdbus-1.so.3 \
               libxcb-cursor.so.0; do
        "$ldconfig_bin" -p 2>/dev/null | grep -q "$lib" || missing+=("$lib")
    done
    python3 -c 'import ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)
    fc-list 2>/dev/null | grep -qi dejavu || missing+=(fonts)
    [ ${#missing[@]} -eq 0 ] && return 0
    command -v apt-get >/dev/null 2>&1 || { echo "setup: missing ${missing[*]} and no apt-get" >&2; return 0; }
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || { echo "setup: missing ${missing[*]}; install them as root" >&2; return 0; }
        sudo="sudo"
    fi
    echo "setup: installing Qt system libraries (${missing[*]})"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 \
        libglib2.0-0 libxcb-cursor0 fonts-dejavu-core python3-venv >/dev/null
}

install_qt_system_libs
PY="$(find_python)" || { echo "setup: no Python 3.11-3.13 found" >&2; exit 1; }
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null; then
    rm -rf .venv
    "$PY" -m venv .venv
fi
stamp=.venv/.depthdesk-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/python -m pip install -q --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
    .venv/bin/python -m pip install -q -e '.[dev]' 2>&1 | grep -v '^WARNING: Location' || true
    .venv/bin/python -c 'import app, PySide6, qasync, websockets, pyqtgraph, orjson'
    touch "$stamp"
fi
echo "setup: $(.venv/bin/python --version) in .venv"
