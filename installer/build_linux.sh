#!/usr/bin/env bash
# Build the Linux bundle of Stride Clinic (no Python needed on the clinic PC):
#   dist/stride-clinic/                                 one-folder PyInstaller bundle
#   dist/stride-clinic-<version>-linux-x86_64.tar.gz    that folder + install.sh + desktop entry
#
# PyInstaller is not a project dependency: it lives in a separate build venv
# (installer/.build-venv) next to exactly the packages in uv.lock, so the bundle holds the
# locked versions and the developer .venv stays untouched. Idempotent; a second run reuses the
# venv and only re-runs PyInstaller.
#
# Environment: PYTHON (interpreter for the build venv, default: the one behind .venv, else
# python3), STRIDE_BUILD_CLEAN=1 (throw away PyInstaller's work cache first),
# STRIDE_BUILD_TARBALL=0 (bundle only, no tarball).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
VENV=$REPO/installer/.build-venv
# Pinned so a rebuild next year gives the same bundle; 6.22 supports Python 3.11 and PySide6 6.10.
PYINSTALLER_PIN="pyinstaller==6.22.3"
HOOKS_CONTRIB_PIN="pyinstaller-hooks-contrib==2026.9"

t0=$(date +%s)
log() { echo "build_linux: $*"; }

if [[ -z "${PYTHON:-}" ]]; then
  if [[ -x .venv/bin/python ]]; then
    PYTHON=$(.venv/bin/python -c 'import sys; print(sys._base_executable)')
  else
    PYTHON=python3
  fi
fi

# uv: the project's own (scripts/bootstrap.sh puts it in .venv), else install it into the build
# venv from PyPI.
if [[ ! -x "$VENV/bin/python" ]]; then
  log "creating build venv $VENV with $PYTHON"
  "$PYTHON" -m venv "$VENV"
fi
if [[ -x .venv/bin/uv ]]; then
  UV=$REPO/.venv/bin/uv
else
  [[ -x "$VENV/bin/uv" ]] || "$VENV/bin/python" -m pip install -q --disable-pip-version-check "uv>=0.4"
  UV=$VENV/bin/uv
fi

log "installing the locked runtime packages (uv.lock, no dev extras) into the build venv"
# --frozen: exactly uv.lock; --inexact: keep PyInstaller; --no-editable + --reinstall-package:
# a real dist-info with the current version, which PyInstaller copies for importlib.metadata.
UV_PROJECT_ENVIRONMENT=$VENV "$UV" sync -q --frozen --inexact --no-dev --no-editable \
  --reinstall-package stride-clinic --python "$VENV/bin/python"
"$UV" pip install -q --python "$VENV/bin/python" "$PYINSTALLER_PIN" "$HOOKS_CONTRIB_PIN"

VERSION=$("$VENV/bin/python" -c 'from importlib.metadata import version; print(version("stride-clinic"))')
log "version $VERSION"

# Build facts for the About box / --version: bundled by the spec, then removed from the source
# tree again so it is never committed by accident.
trap 'rm -f "$REPO/resources/build_info.json"' EXIT
"$VENV/bin/python" installer/write_build_info.py --out resources/build_info.json

# PNG/ICO icons are committed (installer/make_icons.py); recreate them only if missing.
if [[ ! -f resources/icons/stride-clinic-256.png || ! -f resources/icons/stride-clinic.ico ]]; then
  QT_QPA_PLATFORM=offscreen "$VENV/bin/python" installer/make_icons.py
fi

clean=()
[[ "${STRIDE_BUILD_CLEAN:-0}" == 1 ]] && clean=(--clean)
log "running PyInstaller (one-folder)"
t1=$(date +%s)
"$VENV/bin/pyinstaller" --noconfirm "${clean[@]}" --log-level WARN \
  --distpath "$REPO/dist" --workpath "$REPO/build/pyinstaller" installer/stride-clinic.spec
t2=$(date +%s)

# Tarball: the bundle plus a per-user installer (no root needed) and the desktop entry.
# STRIDE_BUILD_TARBALL=0 skips it (saves 40-60 s when only the smoke test is wanted, e.g. CI).
if [[ "${STRIDE_BUILD_TARBALL:-1}" == 0 ]]; then
  log "bundle:  dist/stride-clinic ($(du -sh dist/stride-clinic | cut -f1)); tarball skipped"
  log "times: setup $((t1 - t0)) s, PyInstaller $((t2 - t1)) s, total $((t2 - t0)) s"
  exit 0
fi
STAGE=$REPO/build/tarball
NAME=stride-clinic-$VERSION-linux-x86_64
rm -rf "$STAGE" && mkdir -p "$STAGE/$NAME"
cp -a dist/stride-clinic "$STAGE/$NAME/stride-clinic"
cp installer/install.sh installer/stride-clinic.desktop "$STAGE/$NAME/"
cp resources/icons/stride-clinic-256.png "$STAGE/$NAME/stride-clinic.png"
# the licences of what the bundle contains (FFmpeg with x264/x265 is GPL-2.0-or-later)
cp resources/THIRD_PARTY_NOTICES.md "$STAGE/$NAME/THIRD_PARTY_NOTICES.md"
chmod +x "$STAGE/$NAME/install.sh"
tar -C "$STAGE" -czf "dist/$NAME.tar.gz" "$NAME"
rm -rf "$STAGE"
t3=$(date +%s)

log "bundle:  dist/stride-clinic ($(du -sh dist/stride-clinic | cut -f1))"
log "tarball: dist/$NAME.tar.gz ($(du -sh "dist/$NAME.tar.gz" | cut -f1))"
log "times: setup $((t1 - t0)) s, PyInstaller $((t2 - t1)) s, tarball $((t3 - t2)) s, total $((t3 - t0)) s"
