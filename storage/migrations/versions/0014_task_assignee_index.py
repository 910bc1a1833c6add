"""tasks by assignee: one index for a person's tasks in a workspace

Revision ID: 0014
Revises: 0001

The Home tab's "my tasks", the digest, the due-soon sweep and the calendar feed all ask for one person's tasks in
a workspace. Without this index each of them read every task of the workspace.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_tasks_workspace_assignee", "tasks", ["workspace_id", "assignee_slack_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_tasks_workspace_assignee", table_name="tasks")
