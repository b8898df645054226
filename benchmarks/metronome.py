"""Beat-timing accuracy of an exported metronome file, measured from its samples (prints JSON).

Usage: .venv/bin/python benchmarks/metronome.py [--spm 172] [--minutes 10] [--format wav|m4a|mp3]

Exports the file exactly as `stride-clinic metronome` does, reads it back, detects every click
onset from the samples and compares it with the ideal grid k × 60 / spm. Target: every onset
within 1 ms of the grid over 10 minutes.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.prescription.metronome import export, measure_file_timing  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--spm", type=float, default=172)
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--format", default="wav", choices=["wav", "m4a", "mp3"])
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / f"metronome.{args.format}"
        t0 = time.perf_counter()
        export(out, args.spm, args.minutes)
        export_s = time.perf_counter() - t0
        result = measure_file_timing(out, args.spm)
        size = out.stat().st_size
    result = dict(result) if isinstance(result, dict) else {"result": str(result)}
    result.update(
        {"spm": args.spm, "minutes": args.minutes, "format": args.format, "export_s": round(export_s, 2), "file_bytes": size}
    )
    print(json.dumps(result, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
