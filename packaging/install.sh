#!/bin/sh
# Put this standalone Pinframe into your desktop's application menu. Run it from the unpacked
# folder, once, and again after moving the folder (the menu entry holds its absolute path).
#
#   ./install.sh              menu entry + icon for you, and ~/.local/bin/pinframe for terminals
#   ./install.sh --uninstall  take them out again (the folder itself stays; delete it yourself)
#
# Nothing goes outside your home folder and nothing needs root.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd -P)
DATA="${XDG_DATA_HOME:-$HOME/.local/share}"
APPS="$DATA/applications"
ICONS="$DATA/icons/hicolor"
BIN="$HOME/.local/bin"

refresh_caches() {
    # Menus pick the change up without these on most desktops; they only make it immediate.
    command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$APPS" 2>/dev/null || true
    command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t "$ICONS" 2>/dev/null || true
}

if [ "${1:-}" = "--uninstall" ]; then
    rm -f "$APPS/pinframe.desktop"
    find "$ICONS" -path '*/apps/pinframe.*' -type f -exec rm -f {} + 2>/dev/null || true
    [ -L "$BIN/pinframe" ] && rm -f "$BIN/pinframe"
    refresh_caches
    echo "Pinframe is out of the application menu; delete $HERE to remove the program itself."
    exit 0
fi

if [ ! -x "$HERE/pinframe" ] || [ ! -d "$HERE/_internal" ]; then
    echo "install.sh: run me from the unpacked Pinframe folder (no pinframe executable beside me in $HERE)" >&2
    exit 1
fi
case "$HERE" in
    *[\"\`\$\\]*)
        # Desktop entries can quote these only with double escaping that launchers disagree on.
        echo "install.sh: the folder path $HERE contains \" \` \$ or \\; move Pinframe to a plainer path and run me again" >&2
        exit 1
        ;;
esac

mkdir -p "$APPS" "$ICONS" "$BIN"
cp -R "$HERE/share/icons/hicolor/." "$ICONS/"
exe=$(printf '%s' "$HERE/pinframe" | sed 's/%/%%/g')  # a literal % is %% in Exec
sed -e "s|^Exec=.*|Exec=\"$exe\" %F|" -e "s|^TryExec=.*|TryExec=$HERE/pinframe|" \
    "$HERE/share/applications/pinframe.desktop" >"$APPS/pinframe.desktop.tmp"
mv "$APPS/pinframe.desktop.tmp" "$APPS/pinframe.desktop"
ln -sfn "$HERE/pinframe" "$BIN/pinframe"
refresh_caches

echo "Pinframe is in your application menu (it may take a moment to appear)."
case ":$PATH:" in
    *":$BIN:"*) echo "In a terminal: pinframe --help" ;;
    *) echo "In a terminal: $BIN/pinframe --help (add $BIN to PATH to type just 'pinframe')" ;;
esac
