"""Outgoing callbacks: deliveries and their attempts, each project's signing secret, each generation's API surface.

Revision ID: b3d5f0c81e2a
Revises: a7c2e91f04b3
"""
import base64
import secrets

import sqlalchemy as sa
from alembic import op

revision = "b3d5f0c81e2a"
down_revision = "a7c2e91f04b3"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('webhook_deliveries',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('generation_id', sa.String(length=36), nullable=True),
    sa.Column('surface', sa.String(length=16), nullable=False),
    sa.Column('event_type', sa.String(length=64), nullable=False),
    sa.Column('url', sa.String(length=2048), nullable=False),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('status', sa.Enum('pending', 'delivered', 'failed', name='deliverystatus', native_enum=False, length=16), nullable=False),
    sa.Column('attempt_count', sa.Integer(), nullable=False),
    sa.Column('attempt_limit', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['generation_id'], ['generations.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_deliveries_generation_id'), ['generation_id'], unique=False)
        batch_op.create_index('ix_webhook_deliveries_project_created', ['project_id', 'created_at'], unique=False)
        batch_op.create_index('ix_webhook_deliveries_status_due', ['status', 'next_attempt_at'], unique=False)

    op.create_table('webhook_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('delivery_id', sa.String(length=40), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('attempted_at', sa.DateTime(), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('latency_ms', sa.Integer(), nullable=True),
    sa.Column('response_excerpt', sa.String(length=500), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['delivery_id'], ['webhook_deliveries.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('delivery_id', 'number', name='uq_webhook_attempts_number')
    )
    with op.batch_alter_table('webhook_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_attempts_delivery_id'), ['delivery_id'], unique=False)

    with op.batch_alter_table('generations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('surface', sa.String(length=16), server_default='v1', nullable=False))

    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('webhook_secret', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('previous_webhook_secret', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('webhook_secret_rotated_at', sa.DateTime(), nullable=True))

    # Existing projects get their signing secret now, as new ones do when they are created.
    connection = op.get_bind()
    project_ids = connection.execute(sa.text("SELECT id FROM projects WHERE webhook_secret IS NULL")).scalars().all()
    for project_id in project_ids:
        secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
        connection.execute(
            sa.text("UPDATE projects SET webhook_secret = :secret WHERE id = :id"), {"secret": secret, "id": project_id}
        )


def downgrade():
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_column('webhook_secret_rotated_at')
        batch_op.drop_column('previous_webhook_secret')
        batch_op.drop_column('webhook_secret')

    with op.batch_alter_table('generations', schema=None) as batch_op:
        batch_op.drop_column('surface')

    with op.batch_alter_table('webhook_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_attempts_delivery_id'))

    op.drop_table('webhook_attempts')
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_deliveries_status_due')
        batch_op.drop_index('ix_webhook_deliveries_project_created')
        batch_op.drop_index(batch_op.f('ix_webhook_deliveries_generation_id'))

    op.drop_table('webhook_deliveries')
