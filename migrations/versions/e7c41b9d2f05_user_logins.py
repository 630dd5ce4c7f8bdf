"""Server-side logins: one row per signed-in browser, with hashes of its session secret and remember token.

Revision ID: e7c41b9d2f05
Revises: c2a83ed13e62
"""
import sqlalchemy as sa
from alembic import op

revision = 'e7c41b9d2f05'
down_revision = 'c2a83ed13e62'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('user_logins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('session_hash', sa.String(length=64), nullable=False),
    sa.Column('remember_hash', sa.String(length=64), nullable=True),
    sa.Column('remember_expires_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('session_hash'),
    sa.UniqueConstraint('remember_hash')
    )
    with op.batch_alter_table('user_logins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_logins_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('user_logins', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_logins_user_id'))
    op.drop_table('user_logins')
