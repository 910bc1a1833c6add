"""OKR questions and rollups: find key results by their last check-in day without a scan

Revision ID: 0007
Revises: 0001 (needs the OKR tables of 0003)
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = "0003"


def upgrade() -> None:
    op.create_index("ix_okr_key_results_scope_checkin", "okr_key_results", ["workspace_id", "last_checkin_on"])


def downgrade() -> None:
    op.drop_index("ix_okr_key_results_scope_checkin", table_name="okr_key_results")
