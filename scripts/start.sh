#!/usr/bin/env bash
# Set everything up (first run only) and start Stride Clinic. Extra arguments go to the program,
# e.g. `scripts/start.sh --demo` for the demo clinic.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
exec .venv/bin/stride-clinic "$@"
