"""review loop, task updates and plan versions

Revision ID: 0005
Revises: 0001
Create Date: 2026-11-22 00:02:44.727351
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "launch_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("launch_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("brief", sa.Text(), nullable=False),
        sa.Column("target_date", sa.Date(), nullable=False),
        sa.Column("plan", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["launch_id"], ["launches.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("launch_id", "version"),
    )
    with op.batch_alter_table("launch_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_launch_versions_launch_id"), ["launch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_launch_versions_workspace_id"), ["workspace_id"], unique=False)

    op.create_table(
        "task_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("launch_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("task_key", sa.String(length=32), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("task_title", sa.String(length=300), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=32), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["launch_id"], ["launches.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("launch_id", "version", "task_key"),
    )
    with op.batch_alter_table("task_reviews", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_task_reviews_launch_id"), ["launch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_task_reviews_task_id"), ["task_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_task_reviews_workspace_id"), ["workspace_id"], unique=False)

    with op.batch_alter_table("launches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("plan_channel_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("plan_ts", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("review_channel_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("review_ts", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("changes", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("analyzed_changes", sa.Integer(), nullable=False, server_default="0"))

    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("review_state", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("blocked_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("started_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("added_in_version", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.add_column(sa.Column("review_in", sa.String(length=8), nullable=False, server_default="thread"))

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("home_hash", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("home_hash")

    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.drop_column("review_in")

    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_column("updated_at")
        batch_op.drop_column("added_in_version")
        batch_op.drop_column("completed_at")
        batch_op.drop_column("started_at")
        batch_op.drop_column("blocked_reason")
        batch_op.drop_column("review_state")

    with op.batch_alter_table("launches", schema=None) as batch_op:
        batch_op.drop_column("analyzed_changes")
        batch_op.drop_column("changes")
        batch_op.drop_column("review_ts")
        batch_op.drop_column("review_channel_id")
        batch_op.drop_column("plan_ts")
        batch_op.drop_column("plan_channel_id")

    with op.batch_alter_table("task_reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_task_reviews_workspace_id"))
        batch_op.drop_index(batch_op.f("ix_task_reviews_launch_id"))
        batch_op.drop_index(batch_op.f("ix_task_reviews_task_id"))

    op.drop_table("task_reviews")
    with op.batch_alter_table("launch_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_launch_versions_workspace_id"))
        batch_op.drop_index(batch_op.f("ix_launch_versions_launch_id"))

    op.drop_table("launch_versions")
