"""Shared pieces of :mod:`app.outputs`: the error, file modes, owner-only files and folders."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from app.errors import ClinicError

STDOUT = "-"
PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700
_DB_SUFFIXES = ("", "-wal", "-shm", "-journal")

Check = Callable[[Path], None]


class OutputError(ClinicError):
    """A file could not (or must not) be written. ``message`` is one sentence for the clinician."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message



# --- owner-only files and folders (media outside the data folder) --------------------------------


def restrict_to_owner(path: str | os.PathLike[str]) -> None:
    """Make ``path`` owner-only: 0600 for a file, 0700 for a folder (POSIX; no-op elsewhere).

    For media copied to a ``videos_dir`` outside the (already owner-only) data folder, so a
    patient's video is never readable by other users of the computer.
    """
    if os.name != "posix":
        return
    p = Path(path)
    mode = PRIVATE_DIR_MODE if p.is_dir() else PRIVATE_FILE_MODE
    os.chmod(p, mode)


def make_private_dirs(folder: str | os.PathLike[str], *, below: str | os.PathLike[str]) -> Path:
    """Create ``folder`` (and missing parents up to ``below``) owner-only (0700) and return it.

    Folders that already existed between ``below`` and ``folder`` are tightened too; ``below``
    itself (e.g. the clinic's configured videos folder) is tightened only when it was created.
    """
    folder = Path(folder)
    base = Path(below)
    created_base = not base.exists()
    folder.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    if os.name == "posix":
        p = folder
        while p != base and p.is_relative_to(base) and p != p.parent:
            os.chmod(p, PRIVATE_DIR_MODE)
            p = p.parent
        if created_base:
            os.chmod(base, PRIVATE_DIR_MODE)
    return folder
