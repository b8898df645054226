#!/usr/bin/env bash
# Screenshots of every main screen at 1280x720 and 1920x1080 on a real X screen (Xvfb + openbox,
# the window manager a clinic desktop has in some form), into docs/screens/<size>/.
# Usage: scripts/screenshots.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
out=${1:-docs/screens}
for size in 1280x720 1920x1080; do
  disp=:$((300 + RANDOM % 300))
  Xvfb "$disp" -screen 0 "${size}x24" -nolisten tcp >/dev/null 2>&1 &
  xvfb=$!
  for _ in $(seq 50); do [[ -e /tmp/.X11-unix/X${disp#:} ]] && break; sleep 0.1; done
  DISPLAY=$disp openbox >/dev/null 2>&1 &
  wm=$!
  sleep 0.5
  DISPLAY=$disp QT_QPA_PLATFORM=xcb .venv/bin/python scripts/screenshots.py "$out" || status=$?
  kill $wm $xvfb 2>/dev/null || true
  wait 2>/dev/null || true
  [[ ${status:-0} == 0 ]] || exit "$status"
done
