"""Storage: SQLAlchemy models, the database handle and Alembic migrations."""

from app.db.database import (
    Database,
    DatabaseCorrupt,
    DatabaseError,
    DatabaseForeign,
    DatabaseLocked,
    DatabaseMissing,
    DatabaseTooNew,
    DatabaseUnavailable,
    open_database,
)

__all__ = [
    "Database",
    "DatabaseCorrupt",
    "DatabaseError",
    "DatabaseForeign",
    "DatabaseLocked",
    "DatabaseMissing",
    "DatabaseTooNew",
    "DatabaseUnavailable",
    "open_database",
]
