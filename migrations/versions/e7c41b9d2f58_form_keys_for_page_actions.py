"""A page form's key on the batch and the photo-description session it started, unique per listing, so the same
confirm sent twice (a double click, a resubmitted page) starts one piece of work and charges once.

Revision ID: e7c41b9d2f58
Revises: e7c41b9d2f05
"""
import sqlalchemy as sa
from alembic import op

revision = 'e7c41b9d2f58'
down_revision = 'e7c41b9d2f05'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('form_key', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint('uq_batches_project_form_key', ['project_id', 'form_key'])
    with op.batch_alter_table('analysis_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('form_key', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint('uq_analysis_sessions_project_form_key', ['project_id', 'form_key'])


def downgrade():
    with op.batch_alter_table('analysis_sessions', schema=None) as batch_op:
        batch_op.drop_constraint('uq_analysis_sessions_project_form_key', type_='unique')
        batch_op.drop_column('form_key')
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.drop_constraint('uq_batches_project_form_key', type_='unique')
        batch_op.drop_column('form_key')
