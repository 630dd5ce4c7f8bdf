"""process-image: image generation records (a photo and its style prompt, processed later) and inpainting masks.

Revision ID: b3d5f0c8a912
Revises: b3d5f0c81e2a
"""
import sqlalchemy as sa
from alembic import op

revision = "b3d5f0c8a912"
down_revision = "b3d5f0c81e2a"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "image_generation_records",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("image_id", sa.String(length=36), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("api_key_id", sa.Integer(), nullable=True),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("mask_key", sa.String(length=255), nullable=True),
        sa.Column("generation_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["image_id"], ["images.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["api_key_id"], ["api_keys.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["generation_id"], ["generations.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("image_generation_records") as batch_op:
        batch_op.create_index("ix_image_generation_records_project_created", ["project_id", "created_at"], unique=False)
        batch_op.create_index("ix_image_generation_records_image_id", ["image_id"], unique=False)
        batch_op.create_index("ix_image_generation_records_generation_id", ["generation_id"], unique=False)
    with op.batch_alter_table("generations") as batch_op:
        batch_op.add_column(sa.Column("mask_key", sa.String(length=255), nullable=True))


def downgrade():
    with op.batch_alter_table("generations") as batch_op:
        batch_op.drop_column("mask_key")
    op.drop_table("image_generation_records")
