#!/usr/bin/env bash
# Sets up everything Stride Clinic needs on a fresh clone (Linux):
#   - the Debian libraries Qt needs, when missing and run as root;
#   - a virtual environment at .venv with the exact locked Python packages (uv.lock).
# Idempotent: a second run only checks. Used by both README commands and by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

need_debs=()
if command -v dpkg >/dev/null 2>&1; then
  for pkg in libgl1 libegl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 \
             libglib2.0-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 \
             libxcb-xinerama0 libxcb-randr0 libxcb-render-util0 libxcb-image0 libnss3 \
             libasound2 libpulse0 fonts-dejavu-core fonts-noto-cjk \
             xvfb openbox xdotool; do  # a real X screen for the key-binding tests
    dpkg -s "$pkg" >/dev/null 2>&1 || need_debs+=("$pkg")
  done
fi
if [[ ${#need_debs[@]} -gt 0 ]]; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing Debian packages Qt needs: ${need_debs[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_debs[@]}" >/dev/null \
      || echo "bootstrap: warning: some Debian packages could not be installed: ${need_debs[*]}" >&2
  else
    echo "bootstrap: note: these Debian packages may be needed by Qt: ${need_debs[*]}" >&2
    echo "bootstrap: install them with: sudo apt-get install ${need_debs[*]}" >&2
  fi
fi

# The tests start their own throwaway PostgreSQL server (tests/pg.py) to check the clinic-server
# set-up; they skip those tests with a reason when the server binaries are missing.
if ! command -v initdb >/dev/null 2>&1 && ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing the PostgreSQL server (Debian package postgresql) for the tests"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null \
      || echo "bootstrap: warning: postgresql could not be installed; its tests will be skipped" >&2
  else
    echo "bootstrap: note: PostgreSQL tests will be skipped (sudo apt-get install postgresql)" >&2
  fi
fi

# The metronome test (tests/e2e/test_practice_audio.py) records what the program plays through
# a PulseAudio server with a null output that it starts itself; it skips, saying why, where
# PulseAudio is missing.
if ! command -v pulseaudio >/dev/null 2>&1 || ! command -v parec >/dev/null 2>&1; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing PulseAudio (Debian packages pulseaudio, pulseaudio-utils) for the metronome test"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends pulseaudio pulseaudio-utils >/dev/null \
      || echo "bootstrap: warning: PulseAudio could not be installed; the metronome sound test will be skipped" >&2
  else
    echo "bootstrap: note: the metronome sound test will be skipped (sudo apt-get install pulseaudio pulseaudio-utils)" >&2
  fi
fi

PY=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
  echo "bootstrap: creating .venv"
  "$PY" -m venv .venv
fi
if [[ ! -x .venv/bin/uv ]]; then
  .venv/bin/python -m pip install -q --disable-pip-version-check "uv>=0.4"
fi
# --inexact keeps uv itself inside .venv; --frozen installs exactly what uv.lock says.
UV_PROJECT_ENVIRONMENT=.venv .venv/bin/uv sync -q --inexact --frozen --extra dev --python .venv/bin/python
