"""Photo-description sessions and the analysis of each photo in them.

Revision ID: d41f7a3c9e20
Revises: b3d5f0c8a912
"""
import sqlalchemy as sa
from alembic import op

revision = "d41f7a3c9e20"
down_revision = "b3d5f0c8a912"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "analysis_sessions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("run", sa.Integer(), nullable=False),
        sa.Column("run_total", sa.Integer(), nullable=False),
        sa.Column("run_cursor", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("analysis_sessions") as batch_op:
        batch_op.create_index("ix_analysis_sessions_project_created", ["project_id", "created_at"], unique=False)
        batch_op.create_index("ix_analysis_sessions_expires_at", ["expires_at"], unique=False)
    op.create_table(
        "analyses",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("session_id", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("image_id", sa.String(length=36), nullable=True),
        sa.Column("storage_key", sa.String(length=255), nullable=False),
        sa.Column("upload_path", sa.String(length=255), nullable=False),
        sa.Column("original_filename", sa.String(length=255), nullable=True),
        sa.Column("room_hint", sa.String(length=40), nullable=True),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("pending", "queued", "processing", "succeeded", "failed", name="analysisstatus",
                    native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("run", sa.Integer(), nullable=False),
        sa.Column("analyzer", sa.String(length=32), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("queued_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["image_id"], ["images.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["session_id"], ["analysis_sessions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("analyses") as batch_op:
        batch_op.create_index("ix_analyses_session_position", ["session_id", "position"], unique=False)


def downgrade():
    op.drop_table("analyses")
    op.drop_table("analysis_sessions")
