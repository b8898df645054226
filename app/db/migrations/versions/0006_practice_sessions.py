"""practice sessions: live cadence practice on the treadmill, saved with the visit

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 01:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain CREATE TABLE (no batch copy of an existing table). Deleting a visit deletes its
    # practice sessions (the database cascades, as for recordings).
    op.create_table(
        'practice_session',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('uid', sa.String(length=32), nullable=False),
        sa.Column('visit_id', sa.Integer(), sa.ForeignKey(
            'visit.id', ondelete='CASCADE', name='fk_practice_session_visit_id_visit'),
            nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=False),
        sa.Column('duration_s', sa.Float(), nullable=False),
        sa.Column('target_spm', sa.Float(), nullable=False),
        sa.Column('tolerance_spm', sa.Float(), nullable=False),
        sa.Column('schedule', sa.JSON(), nullable=True),
        sa.Column('samples', sa.JSON(), nullable=False),
        sa.Column('metronome_spans', sa.JSON(), nullable=False),
        sa.Column('measured_cue_s', sa.Float(), nullable=False, server_default='0'),
        sa.Column('on_target_cue_s', sa.Float(), nullable=False, server_default='0'),
        sa.Column('measured_nocue_s', sa.Float(), nullable=False, server_default='0'),
        sa.Column('on_target_nocue_s', sa.Float(), nullable=False, server_default='0'),
        sa.Column('mean_cue_spm', sa.Float(), nullable=True),
        sa.Column('mean_nocue_spm', sa.Float(), nullable=True),
        sa.Column('notes', sa.JSON(), nullable=True),
        sa.Column('recording_path', sa.Text(), nullable=True),
        sa.Column('saved_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name='pk_practice_session'),
    )
    op.create_index('uq_practice_session_uid', 'practice_session', ['uid'], unique=True)
    op.create_index('ix_practice_session_visit_id', 'practice_session', ['visit_id'])


def downgrade() -> None:
    op.drop_index('ix_practice_session_visit_id', table_name='practice_session')
    op.drop_index('uq_practice_session_uid', table_name='practice_session')
    op.drop_table('practice_session')
