#!/usr/bin/env bash
# Install Stride Clinic for the current user (no root needed), from the unpacked tarball:
#   ~/.local/opt/stride-clinic/          the program (replaced on every install)
#   ~/.local/bin/stride-clinic           command (link)
#   ~/.local/share/applications/stride-clinic.desktop, icon in ~/.local/share/icons
# Patient data is NOT here: it stays in ~/.local/share/StrideClinic and survives re-installs
# and `install.sh --uninstall`.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
PREFIX=${STRIDE_CLINIC_PREFIX:-$HOME/.local}
DEST=$PREFIX/opt/stride-clinic
BIN=$PREFIX/bin/stride-clinic
DATA_HOME=${XDG_DATA_HOME:-$HOME/.local/share}
DESKTOP=$DATA_HOME/applications/stride-clinic.desktop
ICON=$DATA_HOME/icons/hicolor/256x256/apps/stride-clinic.png

if [[ "${1:-}" == "--uninstall" ]]; then
  rm -rf "$DEST" "$DESKTOP" "$ICON"
  [[ -L "$BIN" ]] && rm -f "$BIN"
  echo "Stride Clinic removed. Your patient data in $DATA_HOME/StrideClinic was kept;"
  echo "delete that folder yourself only if you no longer need those records."
  exit 0
fi

[[ -x "$HERE/stride-clinic/stride-clinic" ]] || { echo "install.sh: run me from the unpacked tarball" >&2; exit 1; }
mkdir -p "$PREFIX/opt" "$PREFIX/bin" "$(dirname "$DESKTOP")" "$(dirname "$ICON")"
rm -rf "$DEST.new"
cp -a "$HERE/stride-clinic" "$DEST.new"
rm -rf "$DEST" && mv "$DEST.new" "$DEST"
ln -sfn "$DEST/stride-clinic" "$BIN"
cp "$HERE/stride-clinic.png" "$ICON"
# absolute paths: ~/.local/bin is not on every desktop session's PATH
sed -e "s|^Exec=stride-clinic|Exec=$DEST/stride-clinic|" -e "s|^TryExec=.*|TryExec=$DEST/stride-clinic|" \
  "$HERE/stride-clinic.desktop" >"$DESKTOP"
chmod 644 "$DESKTOP"
command -v update-desktop-database >/dev/null && update-desktop-database -q "$(dirname "$DESKTOP")" || true
command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q -t "$DATA_HOME/icons/hicolor" || true
echo "Stride Clinic installed in $DEST"
echo "Start it from the applications menu, or run: $BIN   (add --demo for the demo clinic)"
