"""launch PII mapping: the placeholders of a launch and their originals, kept for restoring and re-planning

Revision ID: 0012
Revises: 0001
Create Date: 2026-11-24 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Fernet-encrypted ("fernet:" prefix) when LIFTOFF_ENCRYPTION_KEY is set, else JSON in clear.
    op.add_column("launches", sa.Column("pii_mapping", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("launches", "pii_mapping")
