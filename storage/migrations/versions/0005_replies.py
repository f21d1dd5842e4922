"""relayed_messages (replies in a note's thread, late DMs sent as notes); answer_parts (DMs added
to an answer); outbox looked up by ts

Revision ID: 0005_replies
Revises: 0004_harden
"""
from alembic import op
import sqlalchemy as sa


revision = '0005_replies'
down_revision = '0004_harden'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('relayed_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('sender', sa.String(length=32), nullable=False),
    sa.Column('recipient', sa.String(length=32), nullable=False),
    sa.Column('rep_id', sa.String(length=32), nullable=False),
    sa.Column('note_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('message_ts', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['note_id'], ['coaching_notes.id'],
                            name=op.f('fk_relayed_messages_note_id_coaching_notes'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_relayed_messages')),
    sa.UniqueConstraint('team_id', 'sender', 'message_ts', 'recipient',
                        name=op.f('uq_relayed_messages_team_id_sender_message_ts_recipient'))
    )
    with op.batch_alter_table('relayed_messages', schema=None) as batch_op:
        batch_op.create_index('ix_relayed_recipient', ['team_id', 'recipient', 'created_at'], unique=False)
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_ts', ['team_id', 'ts'], unique=False)
    op.create_table('answer_parts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('answer_id', sa.Integer(), nullable=False),
    sa.Column('rep_id', sa.String(length=32), nullable=False),
    sa.Column('message_ts', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['answer_id'], ['answers.id'],
                            name=op.f('fk_answer_parts_answer_id_answers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_answer_parts')),
    sa.UniqueConstraint('team_id', 'rep_id', 'message_ts', name=op.f('uq_answer_parts_team_id_rep_id_message_ts'))
    )
    with op.batch_alter_table('answer_parts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_answer_parts_answer_id'), ['answer_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('answer_parts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_answer_parts_answer_id'))
    op.drop_table('answer_parts')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_ts')
    with op.batch_alter_table('relayed_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_relayed_recipient')
    op.drop_table('relayed_messages')
