#!/usr/bin/env bash
# Build the standalone Pinframe for Linux: a one-folder app (PyInstaller) and a tarball with a
# desktop entry, icons and install.sh, then smoke-test the tarball as unpacked. See packaging/README.md.
#
#   packaging/build.sh [--clean] [--no-smoke]      (or ./dev.sh package [...])
#
# The bundle carries whatever torch the build venv has: the CPU build by default. For CUDA, use
# a separate venv: PINFRAME_VENV=.venv-cuda PINFRAME_TORCH="torch==2.13.0 --index-url <CUDA index>" packaging/build.sh
# Outputs (gitignored): packaging/dist/pinframe/ (the folder), packaging/dist/pinframe-VERSION-linux-x86_64.tar.gz,
# packaging/dist/build-report.txt; PyInstaller's work files in packaging/build/.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${PINFRAME_VENV:-.venv}"
PY="$VENV/bin/python"
DIST=packaging/dist
WORK=packaging/build
clean=() smoke=1
for arg in "$@"; do
    case "$arg" in
        --clean) clean=(--clean) ;;
        --no-smoke) smoke=0 ;;
        *) echo "usage: packaging/build.sh [--clean] [--no-smoke]" >&2; exit 2 ;;
    esac
done

[ "$(uname -s)" = "Linux" ] || { echo "build.sh builds the Linux folder; on Windows/macOS run PyInstaller on packaging/pinframe.spec (packaging/README.md)" >&2; exit 2; }

./dev.sh setup
"$PY" -m pip install --disable-pip-version-check -q -r packaging/requirements-build.txt -c constraints.txt

version=$("$PY" -c 'import re; print(re.search(r"__version__ = \"([^\"]+)\"", open("app/__init__.py").read()).group(1))')
cuda=$("$PY" -c 'import torch; print(torch.version.cuda or "")')
name="pinframe-$version-linux-$(uname -m)${cuda:+-cuda$cuda}"
folder="$DIST/pinframe"

started=$(date +%s)
rm -rf "$folder"
"$PY" -m PyInstaller --noconfirm "${clean[@]}" --log-level WARN --distpath "$DIST" --workpath "$WORK/work" packaging/pinframe.spec
built=$(date +%s)

# What goes beside the executable: the launcher, its icons, and the script that installs them.
mkdir -p "$folder/share/applications" "$folder/share/icons"
cp packaging/pinframe.desktop "$folder/share/applications/pinframe.desktop"
cp -R "$WORK/icons/hicolor" "$folder/share/icons/"
install -m 755 packaging/install.sh "$folder/install.sh"
cat >"$folder/README.txt" <<EOF
Pinframe $version, standalone build for Linux ($(uname -m), ${cuda:+CUDA $cuda}${cuda:-CPU} PyTorch).

  ./pinframe                 open the window (./pinframe --help for the commands)
  ./install.sh               add Pinframe to your application menu and ~/.local/bin
  ./install.sh --uninstall   take it out again

Models are not included; see 'pinframe models'. Rendering on a Ray farm needs the
source install (requirements.txt); this build renders on this machine.
EOF

tarball="$DIST/$name.tar.gz"
compress=(gzip -6)
command -v pigz >/dev/null 2>&1 && compress=(pigz -6)
# The folder is 'pinframe' on disk and 'pinframe-VERSION' in the tarball (flags=r: names, not link targets).
tar -C "$DIST" --sort=name --owner=0 --group=0 --numeric-owner \
    --transform "flags=r;s,^pinframe,pinframe-$version," -cf - pinframe | "${compress[@]}" >"$tarball.partial"
mv "$tarball.partial" "$tarball"
packed=$(date +%s)

report="$DIST/build-report.txt"
{
    echo "Pinframe $version standalone build, $(date -u +%Y-%m-%dT%H:%MZ), torch $("$PY" -c 'import torch; print(torch.__version__)')"
    echo "PyInstaller: $((built - started)) s; tarball: $((packed - built)) s"
    echo "folder: $(du -sh "$folder" | cut -f1) ($folder)"
    echo "tarball: $(du -h "$tarball" | cut -f1) ($tarball)"
    echo "biggest parts:"  # sed, not head: head exiting early would SIGPIPE sort and pipefail stops the build
    du -s "$folder"/_internal/* "$folder"/pinframe | sort -rn | sed -n 1,15p |
        while read -r kb path; do printf '  %6d MB  %s\n' $((kb / 1024)) "${path#"$folder"/}"; done
} | tee "$report"

if [ "$smoke" = 1 ]; then
    # Test what ships: the tarball as a person unpacks it, not the build folder.
    unpacked="$WORK/smoke-unpacked"
    rm -rf "$unpacked" && mkdir -p "$unpacked"
    tar -C "$unpacked" -xzf "$tarball"
    status=0
    "$PY" packaging/smoke_test.py "$unpacked/pinframe-$version" --screenshot "$WORK/smoke-x11.png" | tee -a "$report" || status=$?
    rm -rf "$unpacked"
    exit "$status"
fi
