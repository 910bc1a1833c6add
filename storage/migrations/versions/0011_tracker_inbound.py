"""inbound tracker state: webhook secrets (encrypted), reconcile marks and the reconcile's last failure

Revision ID: 0011
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
# The table refers to tracker_connections (0008), another branch off 0001.
depends_on: str | Sequence[str] | None = "0008"


def upgrade() -> None:
    op.create_table(
        "tracker_inbound",
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("webhook_secret", sa.Text(), nullable=True),
        sa.Column("secret_set_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reconciled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_event_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["connection_id"], ["tracker_connections.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("connection_id"),
    )
    op.create_index("ix_tracker_inbound_workspace_id", "tracker_inbound", ["workspace_id"])


def downgrade() -> None:
    op.drop_index("ix_tracker_inbound_workspace_id", table_name="tracker_inbound")
    op.drop_table("tracker_inbound")
