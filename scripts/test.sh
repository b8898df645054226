#!/usr/bin/env bash
# Set everything up (first run only) and run the whole test suite offscreen, plus ruff.
# Extra arguments go to pytest, e.g. `scripts/test.sh tests/app -x`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
export QT_QPA_PLATFORM="offscreen:configfile=$PWD/tests/data/offscreen_screen.json"
.venv/bin/ruff check app ui resources tests benchmarks installer
.venv/bin/python -m pytest -q -p no:cacheprovider --durations=10 "$@"
