"""Writing through a checked temporary file, then an atomic rename (see :mod:`app.outputs`)."""

from __future__ import annotations

import contextlib
import errno
import os
import sys
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

from app.outputs.base import PRIVATE_FILE_MODE, STDOUT, Check, OutputError
from app.outputs.checks import read_back
from app.outputs.rules import OutputRules
from app.paths import fsync_dir

# --- writing ------------------------------------------------------------------------------------


def disk_message(target: Path | str, exc: OSError) -> str:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return (
            f"The disk is full, so {target} could not be written (nothing was saved under that "
            "name). Free some space and try again."
        )
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return (
            f"Stride Clinic may not write {target} ({exc.strerror}). Choose a folder you may "
            "write to, e.g. your Documents folder."
        )
    return f"{target} could not be written: {exc.strerror or exc}."




def _create_temp(folder: Path, name: str, private: bool) -> Path:
    mode = PRIVATE_FILE_MODE if private else 0o666
    for _ in range(10):
        tmp = folder / f".{name[:80]}.{uuid.uuid4().hex[:12]}.partial"
        try:
            fd = os.open(
                tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), mode
            )
        except FileExistsError:
            continue
        os.close(fd)
        return tmp
    raise OutputError(f"No temporary file could be created in {folder}.")


class PendingOutput:
    """A file being written: the writer fills :attr:`temp`; the rename happens on success.

    Use through :func:`writing`. :meth:`verify` may be called early (before recording the file
    somewhere); it runs the checks once.
    """

    def __init__(self, target: Path | None, temp: Path, checks: list[Check]) -> None:
        self.target = target
        """The final file, or None for standard output."""
        self.temp = temp
        self._checks = checks
        self._verified = False

    @property
    def display(self) -> str:
        return "the standard output" if self.target is None else str(self.target)

    def verify(self) -> None:
        """fsync the temporary file and run every check; raises :class:`OutputError`."""
        if self._verified:
            return
        name = self.display
        try:
            with open(self.temp, "rb+") as fh:
                fh.flush()
                os.fsync(fh.fileno())
            size = self.temp.stat().st_size
        except OSError as exc:
            raise OutputError(disk_message(name, exc)) from exc
        if size == 0:
            raise OutputError(
                f"Writing {name} produced an empty file (is the disk full?); nothing was saved."
            )
        for check in self._checks:
            try:
                check(self.temp)
            except OutputError as exc:
                raise OutputError(f"{name} was not saved: {exc.message}") from exc
            except OSError as exc:
                raise OutputError(disk_message(name, exc)) from exc
        self._verified = True


@contextlib.contextmanager
def writing(
    path: str | os.PathLike[str],
    rules: OutputRules,
    *,
    private: bool = False,
    check: Check | Iterable[Check] | None = None,
) -> Iterator[PendingOutput]:
    """Write a file safely: ``with writing(p, rules) as out: produce(out.temp)``.

    The target is checked against ``rules`` first. On leaving the block the temporary file is
    fsynced and checked, then renamed onto the target (without replacing a file that appeared
    meanwhile unless ``rules.force``). Any failure removes the temporary file and raises
    :class:`OutputError`; an ``OSError`` inside the block becomes one too ("the disk is full").
    ``-`` writes the finished, checked bytes to standard output.
    """
    checks: list[Check] = [check] if callable(check) else list(check or [])
    to_stdout = os.fspath(path) == STDOUT
    if to_stdout:
        target = None
        folder = Path(tempfile.gettempdir())
        name = "stdout"
    else:
        target = rules.check(path)
        folder = target.parent
        if not folder.exists():  # rules.check allowed it: parents=True
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise OutputError(
                    f"The folder {folder} could not be created: {exc.strerror or exc}."
                ) from exc
        name = target.name
    try:
        temp = _create_temp(folder, name, private)
    except OSError as exc:
        raise OutputError(disk_message(target or "the output", exc)) from exc
    pending = PendingOutput(target, temp, checks)
    try:
        try:
            yield pending
            pending.verify()
            if private:
                os.chmod(temp, PRIVATE_FILE_MODE)  # a tool that recreated the file lost the mode
            if target is None:
                _copy_to_stdout(temp)
            else:
                _commit(temp, rules, target)
        except OSError as exc:
            raise OutputError(disk_message(pending.display, exc)) from exc
    finally:
        with contextlib.suppress(OSError):
            temp.unlink()


def _commit(temp: Path, rules: OutputRules, target: Path) -> None:
    rules.check(target)  # again: a link or a protected file may have appeared meanwhile
    if rules.force:
        os.replace(temp, target)
    else:
        try:
            os.link(temp, target)  # fails if the name was taken meanwhile: never overwrites
        except FileExistsError:
            raise OutputError(
                f"{target} appeared while it was being written and was left unchanged. "
                "Choose another name."
            ) from None
        except OSError:  # no hard links here (FAT/exFAT sticks): check-then-rename instead
            if os.path.lexists(target):
                raise OutputError(f"{target} already exists and was left unchanged.") from None
            os.rename(temp, target)
    fsync_dir(target.parent)


def _copy_to_stdout(temp: Path) -> None:
    out = getattr(sys.stdout, "buffer", None)
    try:
        with open(temp, "rb") as fh:
            data = fh.read()
        if out is None:
            sys.stdout.write(data.decode("utf-8"))
        else:
            out.write(data)
        sys.stdout.flush()
    except OSError as exc:
        raise OutputError(disk_message("the standard output", exc)) from exc


def write_bytes(
    path: str | os.PathLike[str],
    data: bytes,
    rules: OutputRules,
    *,
    private: bool = False,
    check: Check | Iterable[Check] | None = None,
) -> Path | None:
    """Write ``data`` (read back and compared before the rename). Returns the file, or None
    for standard output. Raises :class:`OutputError`."""
    if not data:
        raise OutputError("There is nothing to write.")
    checks: list[Check] = [check] if callable(check) else list(check or [])
    with (
        writing(path, rules, private=private, check=[read_back(data), *checks]) as out,
        open(out.temp, "wb") as fh,
    ):
        fh.write(data)
    return out.target


def write_text(
    path: str | os.PathLike[str],
    text: str,
    rules: OutputRules,
    *,
    encoding: str = "utf-8",
    private: bool = False,
) -> Path | None:
    """:func:`write_bytes` for text (``encoding="utf-8-sig"`` for spreadsheet CSV)."""
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError as exc:
        raise OutputError(f"The text cannot be saved as {encoding}: {exc.reason}.") from exc
    return write_bytes(path, data, rules, private=private)
