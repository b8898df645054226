"""Opening the clinic database: engine set-up, migrations, integrity and version checks."""

from __future__ import annotations

import contextlib
import logging
import re
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm import exc as orm_exc

from app.db import errors
from app.db.conflicts import EditConflict
from app.errors import ClinicError
from app.logs import NoRowData, protect_logs

MIGRATIONS = Path(__file__).with_name("migrations")
log = logging.getLogger(__name__)
# How long start-up waits for another program to let go of the database before saying so.
LOCK_WAIT_S = 5.0
# How long one statement waits for a lock while the program runs (SQLite busy_timeout).
BUSY_TIMEOUT_MS = 5000
_SQLITE_HEADER = b"SQLite format 3\x00"


class DatabaseError(ClinicError):
    """The database cannot be used. ``message`` tells the clinician what happened and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class DatabaseTooNew(DatabaseError):
    pass


class DatabaseCorrupt(DatabaseError):
    """The file is positively damaged (or missing where a clinic was): a backup may be offered."""


class DatabaseMissing(DatabaseCorrupt):
    """The database is empty or missing, but the data folder shows an earlier clinic."""


class DatabaseForeign(DatabaseError):
    """An SQLite file of another program: refused and left exactly as it was."""


class DatabaseLocked(DatabaseError):
    """Another program (or a second copy) holds the database. Not damage: never restore."""


class DatabaseUnavailable(DatabaseError, sa_exc.OperationalError):
    """A read or save failed because the database is locked, read-only or on a full/failing disk.

    Raised by :meth:`Database.session` in place of SQLAlchemy's ``OperationalError`` (it still
    is one, so code catching that keeps working); ``kind`` is one of :mod:`app.db.errors`'
    kinds and ``message`` says in plain words what to do. Nothing of the transaction was saved.
    """

    def __init__(self, kind: str, original: sa_exc.DBAPIError) -> None:
        sa_exc.OperationalError.__init__(
            self, original.statement, original.params, original.orig, hide_parameters=True
        )
        self.kind = kind
        statement = (original.statement or "").lstrip().upper()
        if not statement:  # the connection itself could not be set up
            doing = "read or saved"
        elif statement.startswith(("SELECT", "WITH", "PRAGMA")):
            doing = "read"
        else:
            doing = "saved"
        self.message = errors.plain_message(kind, doing=doing)
        self.detail = f"database {doing} failed: {kind}"

    def __str__(self) -> str:
        return self.message


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


# Alembic is imported only when a migration actually runs: it costs about a second of start-up
# on a slow clinic PC, and an up-to-date database needs none of it.
_REVISION_RE = re.compile(r"^(revision|down_revision)\s*(?::[^=]*)?=\s*(['\"])([^'\"]+)\2", re.M)


def _alembic_config():  # type: ignore[no-untyped-def]
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def all_revisions() -> list[str]:
    """Every revision from the first to the head, oldest first (read from the migration files)."""
    parents: dict[str, str | None] = {}
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        found = {
            m.group(1): m.group(3) for m in _REVISION_RE.finditer(path.read_text(encoding="utf-8"))
        }
        if "revision" in found:
            parents[found["revision"]] = found.get("down_revision")
    order: list[str] = []
    current = next((r for r, parent in parents.items() if parent is None), None)
    children = {parent: r for r, parent in parents.items()}
    while current is not None:
        order.append(current)
        current = children.get(current)
    return order


def head_revision() -> str:
    revisions = all_revisions()
    return revisions[-1] if revisions else ""


# Kept under their old names: the filter now lives with the log file it protects.
_NoRowData = NoRowData
_protect_logs = protect_logs


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_MS)}")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = FULL")  # a committed edit survives power loss
        cur.close()


def _recover_after_disk_errors(engine: Engine) -> None:
    """Treat a disk-full or I/O error like a lost connection: the pool is thrown away.

    After ``SQLITE_FULL``/``SQLITE_IOERR`` a pooled SQLite connection can keep failing with
    "disk I/O error" even once space is freed; marking the error as a disconnect makes
    SQLAlchemy invalidate every pooled connection, so the next unit of work opens a fresh one
    and succeeds by itself as soon as the disk can be written again.
    """

    @event.listens_for(engine, "handle_error")
    def _on_error(context) -> None:  # type: ignore[no-untyped-def]
        if errors.kind_of(context.original_exception) in (errors.DISK_FULL, errors.DISK_ERROR):
            context.is_disconnect = True
            # Finalise the failed statement and end the transaction now: a closed SQLite
            # connection with a live statement stays open as a "zombie" and keeps its write
            # lock until garbage collection, and every other writer would then see "locked".
            with contextlib.suppress(Exception):
                if context.cursor is not None:
                    context.cursor.close()
            with contextlib.suppress(Exception):
                context.connection.connection.dbapi_connection.rollback()


class Database:
    """A migrated, checked database. Use :meth:`session` for units of work."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        # The signed-in clinician (app.safety.accounts); copied into every session's ``info``
        # so audit entries and new visits carry it.
        self.clinician_id: int | None = None
        self._hooks: set[str] = set()
        self.at_head = False  # set by open_database: the schema is this version's

    def add_session_hooks(self, name: str, hooks: Mapping[str, Callable[..., object]]) -> bool:
        """Listen to the session events (``before_flush``, ``after_commit``...) of every unit of work.

        The public hook by which layers above storage (the audit trail, installed where the
        clinic is opened) attach to it; storage imports none of them. Idempotent per ``name``:
        returns False when hooks of that name are already there.
        """
        if name in self._hooks:
            return False
        for identifier, fn in hooks.items():
            event.listen(self._sessions, identifier, fn)
        self._hooks.add(name)
        return True

    @property
    def session_hooks(self) -> frozenset[str]:
        """Names of the hooks added with :meth:`add_session_hooks`."""
        return frozenset(self._hooks)

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @property
    def sqlite_path(self) -> Path | None:
        """The database file for SQLite, None for a server database."""
        if not self.is_sqlite or not self.engine.url.database:
            return None
        return Path(self.engine.url.database)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed on success, rolled back on any error.

        A save that lost a race with another workstation raises
        :class:`app.db.conflicts.EditConflict` (a ``ValidationError``) instead of
        overwriting.
        """
        try:
            with self._sessions() as session, session.begin():
                session.info["clinician_id"] = self.clinician_id
                yield session
        except orm_exc.StaleDataError as exc:
            raise EditConflict() from exc
        except sa_exc.DBAPIError as exc:
            kind = errors.kind_of(exc)
            if kind in errors.TRANSIENT and not isinstance(exc, DatabaseUnavailable):
                raise DatabaseUnavailable(kind, exc) from exc  # type: ignore[arg-type]
            raise

    def current_revision(self) -> str | None:
        with self.engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()

    def _begin_migration(self, conn) -> None:  # type: ignore[no-untyped-def]
        if conn.dialect.name == "sqlite":
            # Python's sqlite3 opens a transaction only before INSERT/UPDATE/DELETE, so DDL
            # would commit statement by statement; an explicit BEGIN makes the whole migration
            # one transaction that an error or a crash rolls back (tests/app/test_safety_crash.py).
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    def upgrade(self, revision: str = "head") -> None:
        from alembic import command

        cfg = _alembic_config()
        with self.engine.begin() as conn:
            self._begin_migration(conn)
            if conn.dialect.name == "postgresql":
                # Two workstations starting at once: the second waits here, then finds the
                # schema already upgraded (the lock ends with the migration transaction).
                conn.execute(text("SELECT pg_advisory_xact_lock(53716)"))
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)

    def downgrade(self, revision: str) -> None:
        from alembic import command

        cfg = _alembic_config()
        with self.engine.begin() as conn:
            self._begin_migration(conn)
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, revision)

    def quick_check(self) -> str:
        """SQLite's integrity check; returns "ok" or the first problem found."""
        if not self.is_sqlite:
            return "ok"
        with self.engine.connect() as conn:
            return str(conn.exec_driver_sql("PRAGMA quick_check").scalar())

    def dispose(self) -> None:
        self.engine.dispose()


def _sqlite_file(url: str) -> Path | None:
    """The file of an SQLite URL (None for a server or an in-memory database)."""
    from sqlalchemy.engine import make_url

    u = make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return Path(u.database)


def _locked_message(where: str) -> str:
    return (
        f"The clinic database {where} is in use by another program or by a second copy of "
        "Stride Clinic (it is locked). It is not damaged and has not been changed. Close the "
        "other program or the other Stride Clinic window, then start Stride Clinic again."
    )


def _open_error(exc: BaseException, where: str, *, doing: str = "opened") -> DatabaseError:
    """The clinician's error for a failure while opening, chosen by the error code."""
    kind = errors.kind_of(exc)
    if kind == errors.LOCKED:
        return DatabaseLocked(_locked_message(where))
    if kind == errors.CORRUPT:
        return DatabaseCorrupt(
            f"The file {where} is not a readable Stride Clinic database (it is damaged). It "
            "has not been changed. Restore a backup, or move the file away to start a new "
            "database."
        )
    if kind is not None:
        return DatabaseError(
            errors.plain_message(kind, doing=doing).replace(
                "The clinic database", f"The clinic database {where}", 1
            )
            + " Nothing has been changed."
        )
    return DatabaseError(
        f"The clinic database {where} could not be {doing} ({type(exc).__name__}). Nothing "
        "has been changed. Contact support; the details are in the program's log."
    )


def _probe_sqlite(path: Path, where: str) -> None:
    """Identify ``path`` through a read-only connection before anything may write to it.

    Raises :class:`DatabaseCorrupt`, :class:`DatabaseForeign`, :class:`DatabaseTooNew` or
    :class:`DatabaseLocked` (after one attempt; the caller retries). A missing or empty file
    passes (it becomes a new database). The read-only connection never switches the journal
    mode, never creates ``-wal``/``-shm`` files and leaves another program's file untouched.
    """
    from app.db.readonly import open_readonly

    try:
        with open(path, "rb") as fh:
            header = fh.read(len(_SQLITE_HEADER))
    except FileNotFoundError:
        return
    except OSError as exc:
        raise _open_error(exc, where) from exc
    if not header and not Path(f"{path}-wal").exists():
        return  # empty: a new database (app.clinic refuses this where a clinic was before)
    if header != _SQLITE_HEADER:
        raise DatabaseCorrupt(
            f"The file {where} is not a readable Stride Clinic database (it is not an SQLite "
            "database at all). It has not been changed. Restore a backup, or move the file "
            "away to start a new database."
        )
    try:
        with open_readonly(path, immutable=False, timeout=0.5) as conn:
            check = str(conn.execute("PRAGMA quick_check").fetchone()[0])
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            revision = None
            if "alembic_version" in tables:
                row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
                revision = row[0] if row else None
    except sqlite3.Error as exc:
        kind = errors.kind_of(exc)
        if kind in (errors.LOCKED, errors.CORRUPT):
            raise _open_error(exc, where) from exc
        # Read-only access itself failed (no -shm yet in a folder we may not write, ...): the
        # read-write open below classifies the same error codes.
        log.info("read-only probe of the database failed (%s); opening normally", kind)
        return
    if check != "ok":
        raise DatabaseCorrupt(
            f"The database {where} failed its integrity check ({check[:200]}). It has not "
            "been changed. Restore the latest backup (File ▸ Restore backup) or contact support."
        )
    if tables and not tables & {"patient", "alembic_version"}:
        raise DatabaseForeign(
            f"The file {where} is an SQLite database, but not one of Stride Clinic's. It has "
            "not been changed. Check the database setting, or move the file away."
        )
    if revision is not None and revision not in set(all_revisions()):
        raise DatabaseTooNew(
            f"The database {where} was written by a newer version of Stride Clinic "
            f"(schema {revision}). Install the newer version to open it; it has not been changed."
        )


def open_database(url: str, *, migrate: bool = True, lock_wait_s: float | None = None) -> Database:
    """Open (and create or migrate) the database at ``url``.

    An SQLite file is first identified read-only, so a damaged, foreign or too-new file is
    refused without being touched. Raises :class:`DatabaseCorrupt` for a damaged file (only
    then may a backup be offered), :class:`DatabaseForeign` for another program's database,
    :class:`DatabaseTooNew` for a newer Stride Clinic's, and :class:`DatabaseLocked` when
    another program still holds the file after ``lock_wait_s`` seconds (default
    :data:`LOCK_WAIT_S`) of retrying; in every case nothing is modified.
    """
    wait = LOCK_WAIT_S if lock_wait_s is None else lock_wait_s
    deadline = time.monotonic() + max(0.0, wait)
    while True:
        try:
            return _open_once(url, migrate=migrate)
        except DatabaseLocked:
            if time.monotonic() >= deadline:
                raise
            log.info("the database is locked by another program; trying again")
            time.sleep(0.25)


def _open_once(url: str, *, migrate: bool) -> Database:
    # hide_parameters: SQL errors and logs never carry patient data (names, notes).
    _protect_logs()
    path = _sqlite_file(url)
    if path is not None:
        where = str(path)
        _probe_sqlite(path, where)
    engine = create_engine(
        url, future=True, pool_pre_ping=not url.startswith("sqlite"), hide_parameters=True
    )
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    _recover_after_disk_errors(engine)
    db = Database(engine)
    if path is None:  # a server (never shown with its password) or an in-memory database
        where = engine.url.render_as_string(hide_password=True)
    if not db.is_sqlite:
        try:
            check_connection(engine)
        except sa_exc.SQLAlchemyError as exc:
            engine.dispose()
            raise DatabaseError(
                f"Stride Clinic cannot reach the clinic database server {where}. Check that "
                "the server computer is switched on and on the network, then start again. "
                "Nothing has been changed."
            ) from exc
    try:
        if path is None and db.is_sqlite:  # in-memory: nothing was probed
            check = db.quick_check()
            if check != "ok":
                raise DatabaseCorrupt(f"The database failed its integrity check ({check}).")
        current = db.current_revision()
        tables = set(inspect(engine).get_table_names())
    except (sa_exc.DBAPIError, sqlite3.Error) as exc:
        engine.dispose()
        raise _open_error(exc, where) from exc
    known = set(all_revisions())
    if current is not None and current not in known:
        engine.dispose()
        raise DatabaseTooNew(
            f"The database {where} was written by a newer version of Stride Clinic "
            f"(schema {current}). Install the newer version to open it; it has not been changed."
        )
    if current is None and tables and "patient" not in tables:
        engine.dispose()
        raise DatabaseForeign(
            f"The file {where} is an SQLite database, but not one of Stride Clinic's. "
            "It has not been changed."
        )
    if migrate and current != head_revision():
        try:
            db.upgrade()
        except Exception as exc:  # any failing step: the one migration transaction rolls back
            engine.dispose()
            # The SQL of the failing step goes to the log for support, not on screen.
            log.error("updating the database schema from %s failed: %s", current, exc)
            if errors.kind_of(exc) is not None:
                raise _open_error(exc, where, doing="updated to this version") from exc
            raise DatabaseError(
                f"Stride Clinic could not update the database {where} to this version. The "
                "update was rolled back; the database is as it was. Contact support; the details "
                "are in the program's log."
            ) from exc
    try:
        # Only a database at the head revision gets the audit trail (app.clinic installs it):
        # an unmigrated one (migrate=False) is inspected, not edited.
        db.at_head = db.current_revision() == head_revision()
    except (sa_exc.DBAPIError, sqlite3.Error) as exc:
        engine.dispose()
        raise _open_error(exc, where) from exc
    return db


def check_connection(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
