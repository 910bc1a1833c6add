"""Every model module, imported so Base.metadata knows the whole schema (Alembic's env uses it)."""

from storage import models  # noqa: F401
