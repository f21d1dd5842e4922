"""tone confidence on manager questions

Revision ID: 0003_tone
Revises: 0002_idle
"""
from alembic import op
import sqlalchemy as sa


revision = '0003_tone'
down_revision = '0002_idle'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: questions stored before the classifier had a confidence count as they were read.
    with op.batch_alter_table('manager_questions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tone_confidence', sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('manager_questions', schema=None) as batch_op:
        batch_op.drop_column('tone_confidence')
