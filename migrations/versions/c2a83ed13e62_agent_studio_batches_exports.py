"""The agent studio: batches, saved prompts, zip exports; photo titles, rooms, order and kept version;
listing address; workspace settings.

Revision ID: c2a83ed13e62
Revises: d41f7a3c9e20
"""
import sqlalchemy as sa
from alembic import op

revision = 'c2a83ed13e62'
down_revision = 'd41f7a3c9e20'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('saved_presets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('prompt', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('workspace_id', 'name', name='uq_saved_presets_workspace_name')
    )
    op.create_table('batches',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('preset', sa.String(length=64), nullable=True),
    sa.Column('prompt', sa.Text(), nullable=False),
    sa.Column('photo_count', sa.Integer(), nullable=False),
    sa.Column('credits', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.create_index('ix_batches_project_created', ['project_id', 'created_at'], unique=False)

    op.create_table('exports',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('image_ids', sa.JSON(), nullable=False),
    sa.Column('include_originals', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('progress_done', sa.Integer(), nullable=False),
    sa.Column('progress_total', sa.Integer(), nullable=False),
    sa.Column('storage_key', sa.String(length=255), nullable=True),
    sa.Column('size_bytes', sa.Integer(), nullable=True),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('exports', schema=None) as batch_op:
        batch_op.create_index('ix_exports_project_created', ['project_id', 'created_at'], unique=False)

    with op.batch_alter_table('generations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('batch_id', sa.String(length=36), nullable=True))
        batch_op.create_index(batch_op.f('ix_generations_batch_id'), ['batch_id'], unique=False)
        batch_op.create_foreign_key('fk_generations_batch_id', 'batches', ['batch_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('images', schema=None) as batch_op:
        batch_op.add_column(sa.Column('title', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('room_type', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('position', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('kept_image_id', sa.String(length=36), nullable=True))
        batch_op.create_foreign_key('fk_images_kept_image_id', 'images', ['kept_image_id'], ['id'], ondelete='SET NULL')
    # Photos uploaded before listings had an order keep the one they were shown in (oldest first), so new
    # uploads, which get the next place, land after them.
    op.execute(
        "UPDATE images SET position = (SELECT COUNT(*) FROM images AS earlier"
        " WHERE earlier.project_id = images.project_id AND earlier.source = 'uploaded'"
        " AND (earlier.created_at < images.created_at"
        " OR (earlier.created_at = images.created_at AND earlier.id <= images.id)))"
        " WHERE source = 'uploaded'"
    )

    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('room_count', sa.Integer(), nullable=True))

    with op.batch_alter_table('workspaces', schema=None) as batch_op:
        batch_op.add_column(sa.Column('watermark_text', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('default_provider', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('default_model', sa.String(length=100), nullable=True))



def downgrade():
    with op.batch_alter_table('workspaces', schema=None) as batch_op:
        batch_op.drop_column('default_model')
        batch_op.drop_column('default_provider')
        batch_op.drop_column('watermark_text')

    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_column('room_count')
        batch_op.drop_column('address')

    with op.batch_alter_table('images', schema=None) as batch_op:
        batch_op.drop_constraint('fk_images_kept_image_id', type_='foreignkey')
        batch_op.drop_column('kept_image_id')
        batch_op.drop_column('position')
        batch_op.drop_column('room_type')
        batch_op.drop_column('title')

    with op.batch_alter_table('generations', schema=None) as batch_op:
        batch_op.drop_constraint('fk_generations_batch_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_generations_batch_id'))
        batch_op.drop_column('batch_id')

    with op.batch_alter_table('exports', schema=None) as batch_op:
        batch_op.drop_index('ix_exports_project_created')

    op.drop_table('exports')
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.drop_index('ix_batches_project_created')

    op.drop_table('batches')
    op.drop_table('saved_presets')
