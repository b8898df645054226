"""Opening the clinic database: engine set-up, migrations, integrity and version checks."""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm import exc as orm_exc

MIGRATIONS = Path(__file__).with_name("migrations")


class DatabaseError(Exception):
    """The database cannot be used. ``message`` tells the clinician what happened and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class DatabaseTooNew(DatabaseError):
    pass


class DatabaseCorrupt(DatabaseError):
    pass


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


class _NoRowData(logging.Filter):
    """Drop SQLAlchemy's DEBUG "Row (...)" records: they print patient names and notes.

    ``hide_parameters`` already keeps statement parameters out of logs and errors; result rows
    are logged separately when someone turns the engine logger up to DEBUG.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and record.msg.startswith("Row"))


def _protect_logs() -> None:
    for name in ("sqlalchemy.engine.Engine", "sqlalchemy.engine"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _NoRowData) for f in logger.filters):
            logger.addFilter(_NoRowData())


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute("PRAGMA busy_timeout = 5000")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = FULL")  # a committed edit survives power loss
        cur.close()


class Database:
    """A migrated, checked database. Use :meth:`session` for units of work."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        # The signed-in clinician (app.safety.accounts); copied into every session's ``info``
        # so audit entries and new visits carry it.
        self.clinician_id: int | None = None

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
        :class:`app.safety.conflicts.EditConflict` (a ``ValidationError``) instead of
        overwriting.
        """
        try:
            with self._sessions() as session, session.begin():
                session.info["clinician_id"] = self.clinician_id
                yield session
        except orm_exc.StaleDataError as exc:
            from app.safety.conflicts import EditConflict

            raise EditConflict() from exc

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


def open_database(url: str, *, migrate: bool = True) -> Database:
    """Open (and create or migrate) the database at ``url``.

    Raises :class:`DatabaseCorrupt` for an unreadable file and :class:`DatabaseTooNew` for a
    database written by a newer Stride Clinic; in both cases nothing is modified.
    """
    # hide_parameters: SQL errors and logs never carry patient data (names, notes).
    _protect_logs()
    engine = create_engine(
        url, future=True, pool_pre_ping=not url.startswith("sqlite"), hide_parameters=True
    )
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    db = Database(engine)
    where = (
        url.removeprefix("sqlite:///")
        if db.is_sqlite
        else engine.url.render_as_string(hide_password=True)
    )
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
        check = db.quick_check()
        if check != "ok":
            raise DatabaseCorrupt(
                f"The database {where} failed its integrity check ({check}). It has not been "
                "changed. Restore the latest backup (File ▸ Restore backup) or contact support."
            )
        current = db.current_revision()
    except (sa_exc.DatabaseError, sqlite3.DatabaseError) as exc:
        engine.dispose()
        raise DatabaseCorrupt(
            f"The file {where} is not a readable Stride Clinic database ({exc.orig if hasattr(exc, 'orig') else exc}). "
            "It has not been changed. Restore a backup, or move the file away to start a new "
            "database."
        ) from exc
    known = set(all_revisions())
    if current is not None and current not in known:
        engine.dispose()
        raise DatabaseTooNew(
            f"The database {where} was written by a newer version of Stride Clinic "
            f"(schema {current}). Install the newer version to open it; it has not been changed."
        )
    if current is None and inspect(engine).get_table_names():
        tables = set(inspect(engine).get_table_names())
        if "patient" not in tables:
            engine.dispose()
            raise DatabaseCorrupt(
                f"The file {where} is an SQLite database, but not one of Stride Clinic's. "
                "It has not been changed."
            )
    if migrate and current != head_revision():
        try:
            db.upgrade()
        except Exception as exc:  # any failing step: the one migration transaction rolls back
            engine.dispose()
            raise DatabaseError(
                f"Updating the database {where} to this version failed ({exc}). The update was "
                "rolled back; the database is as it was."
            ) from exc
    if db.current_revision() == head_revision():
        from app.safety.audit import install

        install(db)  # automatic audit entries for patient and visit edits
    return db


def check_connection(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
