"""outbox.started (the write-ahead mark: a stuck claim never started needs no lookup in Slack)

Revision ID: 0006_recover
Revises: 0005_pacing
"""
from alembic import op
import sqlalchemy as sa


revision = '0006_recover'
down_revision = '0005_pacing'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # True for every existing row: a claim taken before this column existed may have been posted,
    # so recovery still looks for it.
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('started', sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('started')
