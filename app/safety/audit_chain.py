"""A tamper-evident audit trail: every entry carries a hash chained to the entry before it.

``chain_hash`` of entry *n* is HMAC-SHA256 over the previous entry's hash and entry *n*'s own
fields (id, time, clinician, action, patient, detail, workstation). Changing any field of an
entry, deleting one or inserting one breaks every hash after it; :func:`verify` finds the
first break. Deleting entries from the *end* leaves a valid chain, so the newest (id, hash)
is also kept in a small "head" file beside the database and checked too.

The HMAC key is a random secret in a file beside an SQLite database (``<db>.audit-key``,
owner-only), outside the database: someone who edits or copies only the database file cannot
recompute the chain. Limits, said plainly: anyone who can read the data folder with the
clinic's own user account can read the key and recompute everything, so this detects edits
made with a database tool, not by a determined administrator of the computer; a server
(PostgreSQL) database has no shared folder for a key, so its chain is plain SHA-256 and detects
careless edits only. Losing the key file makes the existing trail unverifiable (reported as
changed), never silently re-sealed.

Entries written before this version have no hash; they are chained once, the first time a
version with the chain opens the database ("sealed"), which is said on screen: edits made to
them before that moment cannot be detected.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import secrets
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, select, text

from app.db.models import AuditEntry

if TYPE_CHECKING:
    from app.db.database import Database

log = logging.getLogger(__name__)
GENESIS = "0" * 64
KEY_SUFFIX = ".audit-key"
HEAD_SUFFIX = ".audit-head"
_T = AuditEntry.__table__
_FIELDS = ("id", "at", "clinician_id", "action", "patient_id", "detail", "workstation")
# Raw driver values (text(), no type processing): the hash covers exactly what is stored (the
# time as SQLite's text), and reading 100,000 entries stays well under a second.
_ROWS = text(
    f"SELECT {', '.join(_FIELDS)}, chain_hash FROM audit_log WHERE id >= :first ORDER BY id"
)
_PG_LOCK = 53717  # serialises audit appends across workstations (ids in chain order)
_keys: dict[str, bytes | None] = {}


# --- the key and the head file --------------------------------------------------------------


def _db_file(conn: Connection) -> Path | None:
    url = conn.engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def key_file(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + KEY_SUFFIX)


def head_file(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + HEAD_SUFFIX)


def _key(db_path: Path | None, *, create: bool = True) -> bytes | None:
    """The HMAC key for ``db_path`` (b"" for a server database; None when it cannot be had)."""
    if db_path is None:
        return b""
    name = str(db_path.resolve())
    if _keys.get(name):
        return _keys[name]
    path = key_file(db_path)
    key: bytes | None = None
    try:
        key = bytes.fromhex(path.read_text(encoding="ascii").strip())
    except FileNotFoundError:
        if create:
            try:
                # Exclusive create: two copies starting at once end up with one key.
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w", encoding="ascii") as fh:
                    fh.write(secrets.token_hex(32))
                    fh.flush()
                    os.fsync(fh.fileno())
            except FileExistsError:
                pass
            except OSError as exc:
                log.warning("the audit trail key could not be created (%s)", exc.strerror)
                return None
            return _key(db_path, create=False)
    except (OSError, ValueError) as exc:
        log.warning("the audit trail key could not be read (%s)", exc)
        return None
    _keys[name] = key
    return key


def has_key(db_path: Path) -> bool:
    return key_file(db_path).exists()


def read_head(db_path: Path | None) -> tuple[int, str] | None:
    if db_path is None:
        return None
    try:
        data = json.loads(head_file(db_path).read_text(encoding="utf-8"))
        return int(data["id"]), str(data["hash"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_head(db_path: Path | None, entry_id: int, digest: str) -> None:
    """Remember the newest committed entry (only ever moves forward)."""
    if db_path is None:
        return
    current = read_head(db_path)
    if current is not None and current[0] >= entry_id:
        return
    path = head_file(db_path)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"id": entry_id, "hash": digest}, fh)
        os.replace(tmp, path)
    except OSError as exc:  # a full disk: the chain itself still protects the entries
        log.warning("the audit trail head could not be written (%s)", exc.strerror)
        with contextlib.suppress(OSError):
            tmp.unlink()


def forget_head(db_path: Path) -> None:
    """After restoring a backup the trail legitimately ends earlier: drop the remembered head."""
    with contextlib.suppress(OSError):
        head_file(Path(db_path)).unlink()


# --- hashing -------------------------------------------------------------------------------


def _as_time(value: object) -> dt.datetime | None:
    if isinstance(value, dt.datetime) or value is None:
        return value
    try:
        return dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="microseconds")
    return str(value)


def entry_hash(key: bytes, previous: str, row: object) -> str:
    """The chain hash of ``row`` after an entry whose hash is ``previous``.

    ``row`` has the audit_log fields as attributes or as its first seven items, in the order
    of :data:`_FIELDS`, as the driver returns them.
    """
    if hasattr(row, "action"):
        fields = [getattr(row, f) for f in _FIELDS]
    else:
        fields = list(row)[: len(_FIELDS)]  # type: ignore[call-overload]
    message = (previous + "\x1e" + "\x1f".join(_text(v) for v in fields)).encode(
        "utf-8", "surrogatepass"
    )
    if key:
        return hmac.new(key, message, hashlib.sha256).hexdigest()
    return hashlib.sha256(message).hexdigest()


def _previous_hash(conn: Connection, before_id: int) -> str | None:
    """Hash of the entry just before ``before_id``: GENESIS if none, None if it has no hash."""
    row = conn.execute(
        select(_T.c.id, _T.c.chain_hash)
        .where(_T.c.id < before_id)
        .order_by(_T.c.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return GENESIS
    return row.chain_hash


def _chain_from(conn: Connection, key: bytes, first_id: int, previous: str) -> tuple[int, str]:
    """Hash every entry from ``first_id`` on, in id order; returns the last (id, hash)."""
    last = (first_id - 1, previous)
    updates = []
    for row in conn.execute(_ROWS, {"first": first_id}).all():
        digest = entry_hash(key, previous, row)
        updates.append({"row_id": row[0], "digest": digest})
        previous = digest
        last = (int(row[0]), digest)
    if updates:
        conn.execute(text("UPDATE audit_log SET chain_hash = :digest WHERE id = :row_id"), updates)
    return last


def _needs_sealing(conn: Connection) -> bool:
    if read_head(_db_file(conn)) is not None:
        return False
    if conn.execute(select(_T.c.id).where(_T.c.chain_hash.is_not(None)).limit(1)).first():
        return False
    return conn.execute(select(_T.c.id).limit(1)).first() is not None


def seal_legacy(conn: Connection) -> tuple[int, tuple[int, str] | None]:
    """Chain entries written before the chain existed (once): (how many, the new head).

    Only when *no* entry has a hash yet and no head was ever remembered for this database:
    once sealed, an entry without a hash is a change to report, never something to re-seal.
    """
    db_path = _db_file(conn)
    if read_head(db_path) is not None:
        return 0, None
    if conn.execute(select(_T.c.id).where(_T.c.chain_hash.is_not(None)).limit(1)).first():
        return 0, None
    first = conn.execute(select(_T.c.id).order_by(_T.c.id).limit(1)).scalar()
    if first is None:
        return 0, None
    key = _key(db_path)
    if key is None:
        return 0, None
    count = conn.execute(text("SELECT count(*) FROM audit_log")).scalar() or 0
    return int(count), _chain_from(conn, key, int(first), GENESIS)


def append(conn: Connection, rows: list[dict[str, object]]) -> tuple[int, str] | None:
    """Insert audit ``rows`` and chain them to the trail, inside the caller's transaction.

    Returns the new newest (id, hash), to be remembered with :func:`write_head` once the
    transaction has committed (never before: a rolled-back entry must not become the head).
    """
    if not rows:
        return None
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"SELECT pg_advisory_xact_lock({_PG_LOCK})"))
    ids = [int(conn.execute(_T.insert(), values).inserted_primary_key[0]) for values in rows]
    db_path = _db_file(conn)
    key = _key(db_path)
    if key is None:
        return None  # no key can be had (read-only folder): verification reports the gap
    previous = _previous_hash(conn, min(ids))
    if previous is None:
        # The entries before are unsealed legacy ones (opened without the start-up check).
        sealed, head = seal_legacy(conn)
        if sealed:
            return head
        previous = ""  # a hash removed from an earlier entry: keep chaining, verify reports it
    return _chain_from(conn, key, min(ids), previous)


# --- checking ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainReport:
    """The result of :func:`verify`."""

    entries: int
    intact: bool
    # The last entry that is still as written (its id, 0 = none) when not intact.
    good_until: int = 0
    good_until_at: dt.datetime | None = None
    sealed_now: int = 0
    problem: str = ""

    def describe(self) -> str:
        """One line for the audit view and the start-up warning."""
        if self.intact:
            return f"Audit trail intact ({self.entries} entries)."
        if self.good_until == 0:
            where = "from the first entry on"
        else:
            when = f", {self.good_until_at:%Y-%m-%d %H:%M} UTC" if self.good_until_at else ""
            where = f"after entry #{self.good_until}{when}"
        return (
            f"The audit trail was changed outside Stride Clinic: entries were changed or removed "
            f"{where}. {self.problem}".strip()
        )


def verify(db: Database) -> ChainReport:
    """Check the whole chain and the remembered head (read-only)."""
    with db.engine.connect() as conn:
        db_path = _db_file(conn)
        if db_path is not None and not has_key(db_path):
            n = conn.execute(text("SELECT count(*) FROM audit_log")).scalar() or 0
            hashed = conn.execute(
                select(_T.c.id).where(_T.c.chain_hash.is_not(None)).limit(1)
            ).first()
            if hashed is None:
                return ChainReport(int(n), True)
            return ChainReport(
                int(n), False, problem="The key file that seals the trail is missing."
            )
        key = _key(db_path, create=False) or b""
        previous, last_id, last_at, n = GENESIS, 0, None, 0
        for row in conn.execute(_ROWS, {"first": 0}):
            stored = row[-1]
            if stored is None or not hmac.compare_digest(stored, entry_hash(key, previous, row)):
                return ChainReport(n, False, last_id, _as_time(last_at))
            previous, last_id, last_at, n = stored, row[0], row[1], n + 1
        head = read_head(db_path)
        if head is not None and head[0] > last_id:
            return ChainReport(
                n, False, last_id, _as_time(last_at), problem="The newest entries are missing."
            )
        return ChainReport(n, True)


def check_at_start(db: Database) -> ChainReport:
    """Seal legacy entries once (if any), then verify. Never raises for a database problem."""
    sealed = 0
    try:
        with db.engine.connect() as conn:  # read-only first: a held write lock costs no wait
            needed = _needs_sealing(conn)
    except Exception:
        needed = False
    if needed:
        try:
            with db.engine.begin() as conn:
                if db.is_sqlite:
                    conn.exec_driver_sql("BEGIN IMMEDIATE")  # decide and seal under the lock
                sealed, head = seal_legacy(conn)
            if head is not None:
                write_head(db.sqlite_path, *head)
        except Exception as exc:  # locked or read-only: seal on a later start, verify now
            log.warning("the audit trail could not be sealed now (%s)", type(exc).__name__)
    try:
        report = verify(db)
    except Exception as exc:
        log.warning("the audit trail could not be checked (%s)", type(exc).__name__)
        return ChainReport(0, True, problem="not checked")
    if sealed:
        report = ChainReport(
            report.entries, report.intact, report.good_until, report.good_until_at, sealed,
            report.problem,
        )  # fmt: skip
    return report
