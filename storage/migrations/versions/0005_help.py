"""help_requests (help that reaches the manager); answers.next_step* (carry-forward)

Revision ID: 0005_help
Revises: 0005_replies
"""
from alembic import op
import sqlalchemy as sa

import storage.models


revision = '0005_help'
down_revision = '0005_replies'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_step', sa.String(length=400), nullable=True))
        batch_op.add_column(sa.Column('next_step_state', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('next_step_checkin', sa.Integer(), nullable=True))
    op.create_table('help_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('rep_id', sa.String(length=32), nullable=False),
    sa.Column('checkin_id', sa.Integer(), nullable=False),
    sa.Column('goal_id', sa.Integer(), nullable=True),
    sa.Column('detail', sa.String(length=400), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('created_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolved_by', sa.String(length=32), nullable=True),
    sa.Column('nudged_at', storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['checkin_id'], ['checkins.id'], name=op.f('fk_help_requests_checkin_id_checkins'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['goal_id'], ['goals.id'], name=op.f('fk_help_requests_goal_id_goals'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_help_requests')),
    sa.UniqueConstraint('checkin_id', name=op.f('uq_help_requests_checkin_id'))
    )
    with op.batch_alter_table('help_requests', schema=None) as batch_op:
        batch_op.create_index('ix_help_open', ['team_id', 'state', 'nudged_at'], unique=False)
        batch_op.create_index('ix_help_rep', ['team_id', 'rep_id', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('help_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_help_rep')
        batch_op.drop_index('ix_help_open')
    op.drop_table('help_requests')
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.drop_column('next_step_checkin')
        batch_op.drop_column('next_step_state')
        batch_op.drop_column('next_step')
