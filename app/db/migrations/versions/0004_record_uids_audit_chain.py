"""record uids (media folders that are never reused) and the audit hash chain

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 20:45:00
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

_UID_TABLES = ('patient', 'visit', 'recording')


def upgrade() -> None:
    # Columns are added with plain ADD COLUMN (no batch table copy): on SQLite a copy drops the
    # old table, and with foreign keys on that would cascade into visits and recordings. Every
    # existing row gets its own uid before the unique index is built; the ORM fills new rows.
    conn = op.get_bind()
    for table in _UID_TABLES:
        op.add_column(table, sa.Column('uid', sa.String(length=32), nullable=True))
        t = sa.table(table, sa.column('id', sa.Integer), sa.column('uid', sa.String))
        ids = [row[0] for row in conn.execute(sa.select(t.c.id))]
        for row_id in ids:
            conn.execute(t.update().where(t.c.id == row_id).values(uid=uuid.uuid4().hex))
        op.create_index(f'uq_{table}_uid', table, ['uid'], unique=True)
    op.add_column('audit_log', sa.Column('chain_hash', sa.String(length=64), nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+), for the same reason as above: no table copy.
    op.drop_column('audit_log', 'chain_hash')
    for table in reversed(_UID_TABLES):
        op.drop_index(f'uq_{table}_uid', table_name=table)
        op.drop_column(table, 'uid')
