"""each recording's time base (the file's frame timestamps), so figures read from the database
use the same clock as the marking panel

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 01:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (no batch table copy, which would cascade deletes on SQLite). Existing
    # rows stay NULL: their time base falls back to the stored rates until the video is opened
    # (app.records.recordings.ensure_timestamps fills the map in then).
    op.add_column('recording', sa.Column('timestamps', sa.JSON(), nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+): no table copy, every row and its marks are kept.
    op.drop_column('recording', 'timestamps')
