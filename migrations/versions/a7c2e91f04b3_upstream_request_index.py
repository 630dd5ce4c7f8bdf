"""Index generations by their AI provider's request id (provider callbacks look them up by it).

Revision ID: a7c2e91f04b3
Revises: cf35da51944d
"""
from alembic import op

revision = "a7c2e91f04b3"
down_revision = "cf35da51944d"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("generations") as batch_op:
        batch_op.create_index("ix_generations_upstream_request_id", ["upstream_request_id"], unique=False)


def downgrade():
    with op.batch_alter_table("generations") as batch_op:
        batch_op.drop_index("ix_generations_upstream_request_id")
