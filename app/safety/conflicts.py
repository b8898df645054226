"""Edit conflicts between workstations: now owned by storage, see :mod:`app.db.conflicts`.

Kept so that ``from app.safety.conflicts import EditConflict`` still works.
"""

from __future__ import annotations

from app.db.conflicts import _GENERIC, ANNOTATION_CONFLICT, EditConflict, is_conflict

__all__ = ["ANNOTATION_CONFLICT", "EditConflict", "_GENERIC", "is_conflict"]
