"""safety: audit trail, clinician sign-in, annotation revision

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 10:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Written by hand and checked against app.db.models with alembic's compare_metadata
    # (tests/app/test_safety_migration.py). Added columns carry server defaults so existing
    # rows get a value (NOT NULL) on both SQLite and PostgreSQL.
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('clinician_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=True),
    sa.Column('detail', sa.String(length=500), nullable=True),
    sa.Column('workstation', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_at', ['at'], unique=False)
        batch_op.create_index('ix_audit_log_patient_id', ['patient_id'], unique=False)

    with op.batch_alter_table('clinician', schema=None) as batch_op:
        batch_op.add_column(sa.Column('password_hash', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('role', sa.String(length=20), server_default='clinician', nullable=False))

    with op.batch_alter_table('recording', schema=None) as batch_op:
        batch_op.add_column(sa.Column('events_revision', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('recording', schema=None) as batch_op:
        batch_op.drop_column('events_revision')

    with op.batch_alter_table('clinician', schema=None) as batch_op:
        batch_op.drop_column('role')
        batch_op.drop_column('password_hash')

    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_patient_id')
        batch_op.drop_index('ix_audit_log_at')

    op.drop_table('audit_log')
