"""a drawing kept on a range of frames: the last frame of the range (the first is ``frame``)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 02:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (no batch table copy, which would cascade deletes on SQLite). Existing
    # drawings stay NULL: on their frame only, or on every frame (frame = -1), as before.
    op.add_column('overlay', sa.Column('last_frame', sa.Integer(), nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+): no table copy; a ranged drawing falls back to its first
    # frame.
    op.drop_column('overlay', 'last_frame')
