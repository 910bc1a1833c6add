"""Every model module, imported so Base.metadata knows the whole schema (Alembic's env uses it)."""

from storage import (
    audit,  # noqa: F401
    calendar,  # noqa: F401
    event_dedup,  # noqa: F401
    installations,  # noqa: F401
    llm_usage,  # noqa: F401
    models,  # noqa: F401
    notifications,  # noqa: F401
    okr_models,  # noqa: F401
    tracker_inbound,  # noqa: F401
    trackers,  # noqa: F401
)
