"""The ``stride-clinic`` command: no subcommand opens the GUI; subcommands do batch work."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import logging
import sys
from collections.abc import Callable, Sequence

from app import APP_NAME, __version__
from app.errors import ClinicError

log = logging.getLogger(__name__)

# subcommand -> (module with add_arguments(parser) and run(args) -> int, help)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "analyze": (
        "app.analysis.analyze",
        "detect foot contacts and gait metrics in a video or keypoint track",
    ),
    "metronome": ("app.prescription.cli", "export a metronome audio file at a cadence"),
    "program": ("app.reports.cli", "write a patient's home program as PDF"),
}


def _available(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """Build the parser; only the chosen subcommand's module is imported (keeps GUI start fast)."""
    chosen = next((a for a in argv if a in SUBCOMMANDS), None)
    parser = argparse.ArgumentParser(
        prog="stride-clinic",
        description=f"{APP_NAME}: running-gait retraining for physiotherapists. "
        "Without a subcommand the desktop program opens.",
    )
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="use the separate demo clinic (your real data is untouched)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in SUBCOMMANDS.items():
        if not _available(module):
            continue  # that feature is not built yet; do not advertise it
        sp = sub.add_parser(name, help=help_text, description=help_text)
        sp.add_argument(
            "--demo", action="store_true", default=argparse.SUPPRESS, help="use the demo clinic"
        )
        if name == chosen:
            mod = importlib.import_module(module)
            mod.add_arguments(sp)
            sp.set_defaults(_run=mod.run)
    return parser


def _run_handled(args: argparse.Namespace) -> int:
    """Run a subcommand; the one place where errors become a line on stderr and an exit code.

    The program's own errors (:class:`~app.errors.ClinicError`) print their plain message;
    anything else is a programming error, printed in one line (no traceback) and logged.
    """
    try:
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        print("stride-clinic: interrupted", file=sys.stderr)
        return 130
    except ClinicError as exc:
        if exc.detail:
            log.info("%s: %s", type(exc).__name__, exc.detail)
        print(f"stride-clinic: {exc.message}", file=sys.stderr)
        return 1
    except Exception as exc:
        log.debug("unexpected error in %s", args.command, exc_info=True)
        print(
            f"stride-clinic: something went wrong ({type(exc).__name__}: {exc}); "
            "nothing already saved was changed.",
            file=sys.stderr,
        )
        return 1


def main(
    argv: Sequence[str] | None = None,
    *,
    gui: Callable[..., int] | None = None,
    render_pdf: Callable[..., int] | None = None,
) -> int:
    """Run a subcommand, or hand over to ``gui`` with none.

    The composition root is :mod:`ui.launcher`: it passes ``gui`` and ``render_pdf`` (Qt's PDF
    renderer, which subcommands find as ``args.render_pdf``), so no ``app`` module imports ``ui``.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(argv).parse_args(argv)
    if getattr(args, "_run", None) is not None:
        args.render_pdf = render_pdf
        return _run_handled(args)
    if gui is None:
        print(
            "stride-clinic: the desktop program is started by the 'stride-clinic' command.",
            file=sys.stderr,
        )
        return 2
    return int(gui(demo=args.demo))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
