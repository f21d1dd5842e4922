"""rate_budget (shared Web API budgets), user_sweeps (the daily users.list sweep), users.last_lookup_at

Revision ID: 0005_pacing
Revises: 0005_timeoff
"""
from alembic import op
import sqlalchemy as sa

import storage.models


revision = '0005_pacing'
down_revision = '0005_timeoff'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_lookup_at', storage.models.UTCDateTime(timezone=True), nullable=True))
    op.create_table('rate_budget',
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('method', sa.String(length=64), nullable=False),
    sa.Column('tokens', sa.Float(), nullable=False),
    sa.Column('refilled_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('paused_until', storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('team_id', 'method', name=op.f('pk_rate_budget'))
    )
    op.create_table('user_sweeps',
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('started_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('cursor', sa.String(length=255), nullable=True),
    sa.Column('finished_at', storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('team_id', name=op.f('pk_user_sweeps'))
    )


def downgrade() -> None:
    op.drop_table('user_sweeps')
    op.drop_table('rate_budget')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('last_lookup_at')
