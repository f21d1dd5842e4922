"""leaves: time off booked ahead, as ranges of the rep's local days (issue 13.4)

Revision ID: 0005_timeoff
Revises: 0005_oauth
"""
from alembic import op
import sqlalchemy as sa

import storage.models

revision = '0005_timeoff'
down_revision = '0005_oauth'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('leaves',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('rep_id', sa.String(length=32), nullable=False),
    sa.Column('first_day', sa.Date(), nullable=False),
    sa.Column('last_day', sa.Date(), nullable=False),
    sa.Column('created_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_leaves'))
    )
    with op.batch_alter_table('leaves', schema=None) as batch_op:
        batch_op.create_index('ix_leaves_rep', ['team_id', 'rep_id', 'last_day'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('leaves', schema=None) as batch_op:
        batch_op.drop_index('ix_leaves_rep')
    op.drop_table('leaves')
