"""OKRs: periods, profiles, objectives, key results, check-ins, comments, decisions, settings

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-21 22:28:04.223911
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table('okr_periods',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('start', sa.Date(), nullable=False),
    sa.Column('end', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('workspace_id', 'name')
    )
    with op.batch_alter_table('okr_periods', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_okr_periods_workspace_id'), ['workspace_id'], unique=False)

    op.create_table('okr_profiles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.String(length=32), nullable=False),
    sa.Column('slack_id', sa.String(length=32), nullable=False),
    sa.Column('department', sa.String(length=80), nullable=True),
    sa.Column('team', sa.String(length=80), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('workspace_id', 'slack_id')
    )
    with op.batch_alter_table('okr_profiles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_okr_profiles_workspace_id'), ['workspace_id'], unique=False)

    op.create_table('okr_settings',
    sa.Column('workspace_id', sa.String(length=32), nullable=False),
    sa.Column('rules', sa.JSON(), nullable=False),
    sa.Column('metric_secret', sa.String(length=128), nullable=True),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('workspace_id')
    )
    op.create_table('okr_objectives',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('owner_id', sa.String(length=32), nullable=False),
    sa.Column('department', sa.String(length=80), nullable=True),
    sa.Column('team', sa.String(length=80), nullable=True),
    sa.Column('period_id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('visibility', sa.String(length=16), nullable=False),
    sa.Column('approval', sa.String(length=16), nullable=False),
    sa.Column('return_reason', sa.Text(), nullable=True),
    sa.Column('progress', sa.Float(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('status_on', sa.Date(), nullable=True),
    sa.Column('created_by', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['okr_objectives.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['period_id'], ['okr_periods.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('workspace_id', 'key')
    )
    with op.batch_alter_table('okr_objectives', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_okr_objectives_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index('ix_okr_objectives_scope_period', ['workspace_id', 'period_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_okr_objectives_workspace_id'), ['workspace_id'], unique=False)

    op.create_table('okr_comments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.String(length=32), nullable=False),
    sa.Column('objective_id', sa.Integer(), nullable=False),
    sa.Column('author', sa.String(length=32), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('mentions', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['objective_id'], ['okr_objectives.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('okr_comments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_okr_comments_objective_id'), ['objective_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_okr_comments_workspace_id'), ['workspace_id'], unique=False)

    op.create_table('okr_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.String(length=32), nullable=False),
    sa.Column('objective_id', sa.Integer(), nullable=False),
    sa.Column('actor', sa.String(length=32), nullable=False),
    sa.Column('decision', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['objective_id'], ['okr_objectives.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('okr_decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_okr_decisions_objective_id'), ['objective_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_okr_decisions_workspace_id'), ['workspace_id'], unique=False)

    op.create_table('okr_key_results',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.String(length=32), nullable=False),
    sa.Column('objective_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('owner_id', sa.String(length=32), nullable=False),
    sa.Column('start_value', sa.Float(), nullable=False),
    sa.Column('target_value', sa.Float(), nullable=False),
    sa.Column('unit', sa.String(length=40), nullable=False),
    sa.Column('weight', sa.Float(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('source_ref', sa.String(length=500), nullable=True),
    sa.Column('current_value', sa.Float(), nullable=True),
    sa.Column('progress', sa.Float(), nullable=False),
    sa.Column('forecast', sa.Float(), nullable=True),
    sa.Column('last_checkin_on', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['objective_id'], ['okr_objectives.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('workspace_id', 'key')
    )
    with op.batch_alter_table('okr_key_results', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_okr_key_results_objective_id'), ['objective_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_okr_key_results_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_okr_key_results_workspace_id'), ['workspace_id'], unique=False)

    op.create_table('okr_checkins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.String(length=32), nullable=False),
    sa.Column('key_result_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('confidence', sa.Float(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('author', sa.String(length=32), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('source_ref', sa.String(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['key_result_id'], ['okr_key_results.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key_result_id', 'source_ref')
    )
    with op.batch_alter_table('okr_checkins', schema=None) as batch_op:
        batch_op.create_index('ix_okr_checkins_kr_day', ['key_result_id', 'day'], unique=False)
        batch_op.create_index(batch_op.f('ix_okr_checkins_workspace_id'), ['workspace_id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('okr_checkins', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_okr_checkins_workspace_id'))
        batch_op.drop_index('ix_okr_checkins_kr_day')

    op.drop_table('okr_checkins')
    with op.batch_alter_table('okr_key_results', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_okr_key_results_workspace_id'))
        batch_op.drop_index(batch_op.f('ix_okr_key_results_owner_id'))
        batch_op.drop_index(batch_op.f('ix_okr_key_results_objective_id'))

    op.drop_table('okr_key_results')
    with op.batch_alter_table('okr_decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_okr_decisions_workspace_id'))
        batch_op.drop_index(batch_op.f('ix_okr_decisions_objective_id'))

    op.drop_table('okr_decisions')
    with op.batch_alter_table('okr_comments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_okr_comments_workspace_id'))
        batch_op.drop_index(batch_op.f('ix_okr_comments_objective_id'))

    op.drop_table('okr_comments')
    with op.batch_alter_table('okr_objectives', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_okr_objectives_workspace_id'))
        batch_op.drop_index('ix_okr_objectives_scope_period')
        batch_op.drop_index(batch_op.f('ix_okr_objectives_parent_id'))

    op.drop_table('okr_objectives')
    op.drop_table('okr_settings')
    with op.batch_alter_table('okr_profiles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_okr_profiles_workspace_id'))

    op.drop_table('okr_profiles')
    with op.batch_alter_table('okr_periods', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_okr_periods_workspace_id'))

    op.drop_table('okr_periods')
