#!/usr/bin/env bash
# Pinframe developer entry point: `./dev.sh app` or `./dev.sh test` (see README).
# Both set up .venv first; setup is skipped when the pinned files haven't changed, so both
# are safe to run again.
set -euo pipefail
cd "$(dirname "$0")"

VENV="${PINFRAME_VENV:-.venv}"
# CPU build by default; e.g. PINFRAME_TORCH="torch==2.13.0 --index-url <CUDA wheel index>" for a GPU.
TORCH_SPEC="${PINFRAME_TORCH:-torch==2.13.0}"

find_python() {
    for candidate in "${PINFRAME_PYTHON:-}" python3.11 python3; do
        [ -n "$candidate" ] || continue
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    echo "dev.sh: Python 3.11 is needed; install it (e.g. 'apt install python3.11 python3.11-venv') or set PINFRAME_PYTHON" >&2
    return 1
}

setup() {
    local extras="$1"   # "" or "dev"
    local py
    if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import sys' 2>/dev/null; then
        py="$(find_python)"
        echo "dev.sh: creating $VENV with $py"
        rm -rf "$VENV"
        "$py" -m venv "$VENV"
    fi
    local files=(requirements.txt constraints.txt)
    [ "$extras" = "dev" ] && files+=(requirements-dev.txt)
    local stamp
    stamp="$( (cat "${files[@]}"; echo "$TORCH_SPEC") | sha256sum | cut -c1-16)"
    if [ -f "$VENV/.setup-$stamp" ]; then
        return 0
    fi
    local pip=("$VENV/bin/python" -m pip install --disable-pip-version-check -q)
    if ! "$VENV/bin/python" -c 'import torch' 2>/dev/null; then
        echo "dev.sh: installing PyTorch ($TORCH_SPEC)"
        # shellcheck disable=SC2086  # TORCH_SPEC may carry pip options on purpose
        "${pip[@]}" $TORCH_SPEC
    fi
    echo "dev.sh: installing pinned dependencies"
    local reqs=(-r requirements.txt)
    [ "$extras" = "dev" ] && reqs+=(-r requirements-dev.txt)
    "${pip[@]}" "${reqs[@]}" -c constraints.txt
    touch "$VENV/.setup-$stamp"
}

# Qt's X11 plugin needs these system libraries; desktops usually have them, minimal installs don't.
QT_SYSTEM_PACKAGES="libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-randr0 libxcb-shape0 libxcb-xfixes0 libxcb-xkb1 libxkbcommon-x11-0 libegl1 libgl1 libfontconfig1 libdbus-1-3 libpulse0"

ensure_qt_system_libs() {
    [ "$(uname -s)" = "Linux" ] || return 0
    if "$VENV/bin/python" -c 'import sys; from ui.app import missing_qt_library as m; sys.exit(1 if m() else 0)' 2>/dev/null; then
        return 0
    fi
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        echo "dev.sh: installing the system libraries Qt needs to open a window"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $QT_SYSTEM_PACKAGES >/dev/null
    else
        echo "dev.sh: Qt needs system libraries to open a window; install them with:" >&2
        echo "  sudo apt install $QT_SYSTEM_PACKAGES" >&2
    fi
}

# The sound tests play through a real PulseAudio server with a null sink and record it.
ensure_sound_test_tools() {
    [ "$(uname -s)" = "Linux" ] || return 0
    command -v pulseaudio >/dev/null 2>&1 && command -v parec >/dev/null 2>&1 && return 0
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        echo "dev.sh: installing pulseaudio for the sound tests"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            pulseaudio pulseaudio-utils >/dev/null || echo "dev.sh: couldn't install pulseaudio; the sound tests will skip" >&2
    else
        echo "dev.sh: the sound tests need 'sudo apt install pulseaudio pulseaudio-utils'; they skip without it" >&2
    fi
}

cmd="${1:-}"
shift || true
case "$cmd" in
    app)
        setup ""
        ensure_qt_system_libs
        exec "$VENV/bin/python" main.py gui --demo "$@"
        ;;
    test)
        setup dev
        ensure_sound_test_tools
        "$VENV/bin/python" -m ruff check .
        "$VENV/bin/python" -m mypy  # app/, engine/, ui/: see [tool.mypy] in pyproject.toml
        QT_QPA_PLATFORM=offscreen exec "$VENV/bin/python" -m pytest "$@"
        ;;
    setup)
        setup dev
        ;;
    package)
        # Standalone Linux build + tarball + smoke test (packaging/README.md); sets up .venv itself.
        exec packaging/build.sh "$@"
        ;;
    *)
        echo "usage: ./dev.sh app | test [pytest args] | setup | package [--clean] [--no-smoke]" >&2
        exit 2
        ;;
esac
