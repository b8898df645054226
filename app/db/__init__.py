"""Storage: SQLAlchemy models, the database handle and Alembic migrations."""

from app.db.database import (
    Database,
    DatabaseCorrupt,
    DatabaseError,
    DatabaseTooNew,
    open_database,
)

__all__ = ["Database", "DatabaseCorrupt", "DatabaseError", "DatabaseTooNew", "open_database"]
