"""The ``stride-clinic`` command: no subcommand opens the GUI; subcommands do batch work.

Every subcommand ends with an exit code and, on failure, one plain sentence on stderr: the
errors no subcommand handles itself (a locked or read-only database, a file that must not be
written) are translated here, once, so no traceback reaches the clinician. The helpers below
(:func:`add_output_arguments`, :func:`sign_in`, :func:`positive_number`) give every subcommand
the same rules for output files, sign-in and numbers.
"""

from __future__ import annotations

import argparse
import getpass
import importlib
import importlib.util
import logging
import math
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.clinic import Clinic
    from app.db.models import Clinician

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


PASSWORD_ENV = "STRIDE_CLINIC_PASSWORD"
EXIT_ERROR = 2


class CliError(ClinicError):
    """A command cannot go on; ``message`` is the plain sentence printed on stderr."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def add_output_arguments(parser: argparse.ArgumentParser) -> None:
    """``--force`` and ``--parents`` for a subcommand that writes a file."""
    parser.add_argument(
        "--force", action="store_true", help="replace the output file if it already exists"
    )
    parser.add_argument(
        "--parents", action="store_true", help="create the output file's folder if it is missing"
    )


def positive_number(
    text: object, what: str, *, minimum: float | None = None, maximum: float | None = None
) -> float:
    """``text`` as a finite number > 0 (and within ``minimum``..``maximum``), else :class:`CliError`
    saying why. Accepts a decimal comma ("0,5")."""
    try:
        value = float(str(text).strip().replace(",", "."))
    except ValueError:
        raise CliError(f"{what} must be a number (got {text!r}).") from None
    if not math.isfinite(value) or value <= 0:
        raise CliError(f"{what} must be a positive number (got {text}).")
    if minimum is not None and value < minimum:
        raise CliError(f"{what} must be at least {minimum:g} (got {text}).")
    if maximum is not None and value > maximum:
        raise CliError(f"{what} must be at most {maximum:g} (got {text}).")
    return value


MAX_ROW_ID = 2**63 - 1  # SQLite's integer limit: larger numbers cannot name any record


def record_number(text: object, what: str) -> int:
    """A record number given on the command line (patient, program): a whole number >= 1."""
    raw = str(text).strip() if text is not None else ""
    if not raw:
        raise CliError(f"Please give {what}.")
    try:
        value = int(raw)
    except ValueError:
        raise CliError(f"{what.capitalize()} must be a number (got {text!r}).") from None
    if value < 1 or value > MAX_ROW_ID:
        raise CliError(f"There is no record with number {raw} ({what}).")
    return value


def sign_in(clinic: Clinic, user: str | None, *, prog: str) -> Clinician | None:
    """Honour the clinic's sign-in rules on the command line.

    Sign-in off (no clinician has a password): nothing to do, returns None. Sign-in on:
    ``--user NAME`` is required, the password comes from :data:`PASSWORD_ENV` or a prompt on
    the terminal (never from an argument, which other users could see in the process list).
    A wrong password is recorded as a failed sign-in, exactly as in the desktop program.
    """
    from app.safety.accounts import SignInError, accounts_enabled
    from app.safety.accounts import sign_in as check_password

    with clinic.db.session() as s:
        enabled = accounts_enabled(s)
    if not enabled:
        return None
    if not user or not user.strip():
        raise CliError(
            "Sign-in is in use in this clinic, so the command line asks who you are too: give "
            f"--user NAME (the password is asked for, or read from {PASSWORD_ENV})."
        )
    password = os.environ.get(PASSWORD_ENV)
    if password is None:
        if not sys.stdin or not sys.stdin.isatty():
            raise CliError(
                f"No password for {user}: set {PASSWORD_ENV} or run {prog} in a terminal to be "
                "asked for it."
            )
        try:
            password = getpass.getpass(f"Password for {user}: ")
        except (EOFError, OSError):
            raise CliError("No password was entered.") from None
    try:
        return check_password(clinic.db, user, password)
    except SignInError as exc:
        raise CliError(exc.message) from None


def plain_error(exc: BaseException) -> str | None:
    """The clinician's sentence for an error no subcommand handled, or None (a real bug)."""
    if isinstance(exc, ClinicError):  # CliError, OutputError, DatabaseError, DataFolderError...
        return exc.message
    from app.db import DatabaseError
    from app.paths import DataFolderError

    if isinstance(exc, (DatabaseError, DataFolderError)):
        return exc.message  # type: ignore[attr-defined]
    from sqlalchemy import exc as sa_exc

    if isinstance(exc, sa_exc.SQLAlchemyError):
        return database_message(exc)
    if isinstance(exc, OSError):
        from app.outputs import disk_message

        return disk_message(exc.filename or "a file", exc)
    return None


def database_message(exc: BaseException) -> str:
    """A plain sentence for a database failure (locked, read-only, full disk...)."""
    text = str(getattr(exc, "orig", None) or exc).lower()
    if "locked" in text or "busy" in text:
        return (
            "The clinic database is in use by another program or a second copy of Stride Clinic "
            "(it is locked). Nothing was changed; try again when it is closed."
        )
    if "readonly" in text or "read-only" in text or "read only" in text:
        return (
            "The clinic database is read-only, so nothing could be recorded and nothing was "
            "written. Check the permissions of the data folder."
        )
    if "full" in text or "disk i/o" in text:
        return "The disk is full: free some space, then try again. Nothing was changed."
    return (
        "The clinic database could not be used "
        f"({type(exc).__name__}). Nothing was changed; try again, or contact support."
    )


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

    The program's own errors (:class:`~app.errors.ClinicError`) and the database/disk errors
    :func:`plain_error` translates print their plain sentence; anything else is a programming
    error, printed in one line (no traceback; the traceback goes to the log at DEBUG).
    """
    prog = f"stride-clinic {args.command}"
    try:
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        print("stride-clinic: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # translated once here for every subcommand
        if isinstance(exc, ClinicError) and exc.detail:
            log.info("%s: %s", type(exc).__name__, exc.detail)
        message = plain_error(exc)
        if message is None:
            log.debug("unexpected error in %s", prog, exc_info=True)
            message = (
                f"something went wrong ({type(exc).__name__}: {exc}); "
                "nothing already saved was changed."
            )
        print(f"{prog}: error: {message}", file=sys.stderr)
        return EXIT_ERROR


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
