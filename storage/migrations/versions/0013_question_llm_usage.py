"""llm usage of OKR questions: a call may belong to the workspace without a launch

Revision ID: 0013
Revises: 0001 (needs the llm_usage table of 0004)
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = "0004"


def upgrade() -> None:
    with op.batch_alter_table("llm_usage", schema=None) as batch_op:
        batch_op.alter_column("launch_id", existing_type=sa.Integer(), nullable=True)
        # The questions' monthly budget sums a workspace's calls without a launch since a day.
        batch_op.create_index("ix_llm_usage_workspace_created", ["workspace_id", "created_at"], unique=False)


def downgrade() -> None:
    op.execute("DELETE FROM llm_usage WHERE launch_id IS NULL")
    with op.batch_alter_table("llm_usage", schema=None) as batch_op:
        batch_op.drop_index("ix_llm_usage_workspace_created")
        batch_op.alter_column("launch_id", existing_type=sa.Integer(), nullable=False)
