"""seen_requests (replay protection); answers.message_ts (the DM that carried an answer)

Revision ID: 0004_harden
Revises: 0003_tone
"""
from alembic import op
import sqlalchemy as sa


revision = '0004_harden'
down_revision = '0003_tone'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('message_ts', sa.String(length=32), nullable=True))
    op.create_table('seen_requests',
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('digest', name=op.f('pk_seen_requests'))
    )
    with op.batch_alter_table('seen_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_seen_requests_expires_at'), ['expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('seen_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_seen_requests_expires_at'))
    op.drop_table('seen_requests')
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.drop_column('message_ts')
