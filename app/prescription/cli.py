"""``stride-clinic metronome``: write a metronome audio file for a runner's home practice.

The main ``stride-clinic`` command wires this in as a sub-command with :func:`add_arguments`
and :func:`run`; ``python -m app.prescription.cli`` runs it on its own.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from app.cli import CliError, add_output_arguments
from app.outputs import OutputError, rules_for_home
from app.prescription.metronome import (
    MIN_MINUTES,
    SUPPORTED_EXTENSIONS,
    MetronomeError,
    check_minutes,
    export,
)
from app.prescription.rules import PrescriptionError, validate_spm


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the metronome options to ``parser`` (a sub-command parser)."""
    kinds = ", ".join(sorted(SUPPORTED_EXTENSIONS))
    parser.add_argument("--spm", required=True, help="target cadence = metronome beats per minute")
    parser.add_argument(
        "--minutes",
        required=True,
        help=f"length of the recording in minutes (at least {MIN_MINUTES:g})",
    )
    parser.add_argument("--out", required=True, help=f"output file ({kinds})")
    add_output_arguments(parser)
    parser.add_argument(
        "--accent-every", default="0", help="accent every K beats (0 = no accent, default)"
    )
    parser.add_argument("--volume", default="0.8", help="volume 0–1 (default 0.8)")


def _number(text: str, what: str) -> float:
    try:
        return float(str(text).replace(",", "."))
    except ValueError:
        raise MetronomeError(f"{what} must be a number (got {text!r}).") from None


def run(args: argparse.Namespace) -> int:
    """Export the file; returns 0 on success, 2 on bad input (one line on stderr, no traceback)."""
    try:
        spm = validate_spm(_number(args.spm, "--spm"), "The cadence (--spm)")
        minutes = check_minutes(_number(args.minutes, "--minutes"))
        accent_f = _number(args.accent_every, "--accent-every")
        if accent_f != int(accent_f):
            raise MetronomeError("--accent-every must be a whole number of beats.")
        volume = _number(args.volume, "--volume")
        rules = rules_for_home(
            force=getattr(args, "force", False), parents=getattr(args, "parents", False)
        )
        path = export(
            args.out, spm, minutes, accent_every=int(accent_f), volume=volume, rules=rules
        )
    except PrescriptionError as e:  # includes MetronomeError
        print(f"stride-clinic metronome: error: {e}", file=sys.stderr)
        return 2
    except (CliError, OutputError) as e:
        print(f"stride-clinic metronome: error: {e.message}", file=sys.stderr)
        return 2
    except (OverflowError, ValueError) as e:  # e.g. int(inf); still a user error, not a crash
        print(f"stride-clinic metronome: error: invalid value ({e}).", file=sys.stderr)
        return 2
    print(f"Wrote {minutes:g} min of metronome at {spm:g} beats per minute to {path}")
    return 0


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # type: ignore[override]
        # argparse prints usage plus the message and exits 2: keep that, one line only.
        self.exit(2, f"{self.prog}: error: {message}\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _Parser(prog="stride-clinic metronome", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
