"""What a database error means, decided by the engine's error code rather than its message text.

SQLite's primary result codes (https://sqlite.org/rescode.html) separate a database that another
program holds (``SQLITE_BUSY``/``SQLITE_LOCKED``) from one that is damaged (``SQLITE_CORRUPT``,
``SQLITE_NOTADB``), read-only, on a full disk or on a failing one. Mixing these up is how a
locked, healthy database was once "restored" over: only a positively identified damage may ever
lead to offering a backup.
"""

from __future__ import annotations

import errno
import sqlite3

LOCKED = "locked"
READ_ONLY = "read-only"
DISK_FULL = "disk-full"
DISK_ERROR = "disk-error"
CORRUPT = "corrupt"
CANNOT_OPEN = "cannot-open"

# SQLite primary result codes (the low byte of an extended code).
_SQLITE = {
    3: READ_ONLY,  # SQLITE_PERM
    5: LOCKED,  # SQLITE_BUSY
    6: LOCKED,  # SQLITE_LOCKED
    8: READ_ONLY,  # SQLITE_READONLY
    10: DISK_ERROR,  # SQLITE_IOERR
    11: CORRUPT,  # SQLITE_CORRUPT
    13: DISK_FULL,  # SQLITE_FULL
    14: CANNOT_OPEN,  # SQLITE_CANTOPEN
    26: CORRUPT,  # SQLITE_NOTADB
}
# PostgreSQL SQLSTATEs.
_PG = {
    "53100": DISK_FULL,  # disk_full
    "25006": READ_ONLY,  # read_only_sql_transaction
    "55P03": LOCKED,  # lock_not_available
    "57014": LOCKED,  # query_canceled (statement/lock timeout)
    "XX001": CORRUPT,  # data_corrupted
    "58030": DISK_ERROR,  # io_error
}
_ERRNO = {
    errno.ENOSPC: DISK_FULL,
    errno.EDQUOT: DISK_FULL,
    errno.EROFS: READ_ONLY,
    errno.EACCES: READ_ONLY,
    errno.EPERM: READ_ONLY,
    errno.EIO: DISK_ERROR,
}


def _chain(exc: BaseException | None) -> list[BaseException]:
    """``exc``, the driver error SQLAlchemy wraps (``.orig``) and their causes, without loops."""
    seen: list[BaseException] = []
    todo = [exc]
    while todo:
        e = todo.pop(0)
        if e is None or any(e is s for s in seen):
            continue
        seen.append(e)
        todo += [getattr(e, "orig", None), e.__cause__, e.__context__]
    return seen


def sqlite_code(exc: BaseException | None) -> int | None:
    """The SQLite (extended) result code carried by ``exc`` or the error it wraps, if any."""
    for e in _chain(exc):
        code = getattr(e, "sqlite_errorcode", None)
        if isinstance(code, int):
            return code
    return None


# Python before 3.11 gives no result code: its fixed English messages are the only clue.
_SQLITE_TEXT = {
    "database is locked": LOCKED,
    "database table is locked": LOCKED,
    "attempt to write a readonly database": READ_ONLY,
    "database or disk is full": DISK_FULL,
    "disk i/o error": DISK_ERROR,
    "database disk image is malformed": CORRUPT,
    "file is not a database": CORRUPT,
    "unable to open database file": CANNOT_OPEN,
}


def kind_of(exc: BaseException | None) -> str | None:
    """One of the kinds above for a database (or file) error, None when it is none of them."""
    code = sqlite_code(exc)
    if code is not None:
        return _SQLITE.get(code & 0xFF)
    for e in _chain(exc):
        if isinstance(e, sqlite3.Error) and not hasattr(e, "sqlite_errorcode"):
            return _SQLITE_TEXT.get(str(e).strip().lower())
    for e in _chain(exc):
        pgcode = getattr(e, "pgcode", None) or getattr(e, "sqlstate", None)
        if isinstance(pgcode, str) and pgcode in _PG:
            return _PG[pgcode]
        if isinstance(e, OSError) and e.errno in _ERRNO:
            return _ERRNO[e.errno]
    return None


# Kinds that say nothing about the data: the same action can succeed later.
TRANSIENT = (LOCKED, READ_ONLY, DISK_FULL, DISK_ERROR)


def plain_message(kind: str, *, doing: str = "saved") -> str:
    """What the clinician reads for ``kind``; ``doing`` is "saved", "read", "backed up"..."""
    if kind == LOCKED:
        return (
            f"The clinic database is held by another program or by a second copy of Stride "
            f"Clinic, so this could not be {doing} just now. Close the other program (or the "
            "other Stride Clinic window) and try again."
        )
    if kind == READ_ONLY:
        return (
            f"The clinic database cannot be written (it is read-only for this computer's user), "
            f"so this could not be {doing}. Ask whoever looks after this computer to give "
            "write permission to the data folder, then try again."
        )
    if kind == DISK_FULL:
        return (
            f"The disk is full, so this could not be {doing}. Free some space on the disk "
            "(empty the trash, move old files elsewhere), then try again."
        )
    if kind == DISK_ERROR:
        return (
            f"The disk reported an error, so this could not be {doing}. Check that the disk "
            "is connected and has free space, then try again."
        )
    if kind == CANNOT_OPEN:
        return (
            "The clinic database file cannot be opened. Check that the disk or network drive "
            "holding it is connected, then try again."
        )
    return f"The clinic database reported a problem, so this could not be {doing}."


def is_database_error(exc: BaseException) -> bool:
    """True for an error raised by the database driver (SQLAlchemy's or sqlite3's)."""
    from sqlalchemy import exc as sa_exc

    return isinstance(exc, sa_exc.DBAPIError | sqlite3.Error)
