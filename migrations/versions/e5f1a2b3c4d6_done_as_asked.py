"""Done as asked: the prompt each provider was sent, the exact output size asked for, and whether the
caller's API promised an AI model.

Revision ID: e5f1a2b3c4d6
Revises: e7c41b9d2f58
"""
import sqlalchemy as sa
from alembic import op

revision = 'e5f1a2b3c4d6'
down_revision = 'e7c41b9d2f58'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('generations') as batch_op:
        batch_op.add_column(sa.Column('provider_prompt', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('target_width', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('target_height', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('promises_ai', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('generations') as batch_op:
        batch_op.drop_column('promises_ai')
        batch_op.drop_column('target_height')
        batch_op.drop_column('target_width')
        batch_op.drop_column('provider_prompt')
