"""SQLAlchemy 2 models. Every domain row carries workspace_id (the Slack team id)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.enums import LaunchStatus, OutboxStatus, ReviewDestination, Role, TaskStatus


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every database: SQLite keeps no zone, so one is put back on read."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON, datetime: UtcDateTime}


class Workspace(Base):
    __tablename__ = "workspaces"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # Where a launch's PM gets the review message for flagged tasks: "thread" (the launch channel's
    # plan thread) or "dm". Admins change it with `/launch admin review thread|dm`.
    review_in: Mapped[str] = mapped_column(String(8), default=ReviewDestination.THREAD)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("workspace_id", "slack_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    slack_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(16), default=Role.MEMBER)
    tz: Mapped[str | None] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(320))
    # The hash Slack returned for this person's last published Home view: the next views.publish passes it.
    home_hash: Mapped[str | None] = mapped_column(String(100))


class Launch(Base):
    __tablename__ = "launches"
    __table_args__ = (UniqueConstraint("workspace_id", "name_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(150))
    # Lower-cased name: launch names are unique per workspace regardless of case.
    name_key: Mapped[str] = mapped_column(String(150))
    brief: Mapped[str] = mapped_column(Text, default="")
    target_date: Mapped[date] = mapped_column(Date)
    launch_type: Mapped[str] = mapped_column(String(40))
    channel_id: Mapped[str | None] = mapped_column(String(32))
    created_by: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=LaunchStatus.DRAFT)
    version: Mapped[int] = mapped_column(Integer, default=1)
    critical_path: Mapped[list[Any]] = mapped_column(default=list)
    critical_path_days: Mapped[float] = mapped_column(Float, default=0.0)
    risks: Mapped[list[Any]] = mapped_column(default=list)
    quality_score: Mapped[float] = mapped_column(Float, default=0.0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    planned_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The posted plan message (its channel and ts): later updates of the launch go in its thread.
    plan_channel_id: Mapped[str | None] = mapped_column(String(32))
    plan_ts: Mapped[str | None] = mapped_column(String(32))
    # The review message of the current version's flagged tasks, updated in place (chat.update).
    review_channel_id: Mapped[str | None] = mapped_column(String(32))
    review_ts: Mapped[str | None] = mapped_column(String(32))
    # Changes that affect the analysis (task status, a reject, an edit) count up; a recompute stores the count it
    # covered in analyzed_changes, so the analysis is stale while changes > analyzed_changes.
    changes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    analyzed_changes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The launch's PII placeholders and their originals (storage/launch_pii.py; encrypted when a key is set).
    # Deferred: read and written only through LaunchPiiRepository, never with the launch itself.
    pii_mapping: Mapped[str | None] = mapped_column(Text, deferred=True)

    members: Mapped[list[LaunchMember]] = relationship(
        back_populates="launch", cascade="all, delete-orphan", order_by="LaunchMember.id"
    )


class LaunchMember(Base):
    __tablename__ = "launch_members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    launch_id: Mapped[int] = mapped_column(ForeignKey("launches.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(40))
    slack_id: Mapped[str | None] = mapped_column(String(32))

    launch: Mapped[Launch] = relationship(back_populates="members")


class Task(Base):
    __tablename__ = "tasks"
    # A person's tasks in a workspace (Home, digest, reminders, calendar): migration 0014.
    __table_args__ = (UniqueConstraint("launch_id", "key"), Index("ix_tasks_workspace_assignee", "workspace_id",
                                                                   "assignee_slack_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    launch_id: Mapped[int] = mapped_column(ForeignKey("launches.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    team: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(40))
    assignee: Mapped[str | None] = mapped_column(String(200))
    assignee_slack_id: Mapped[str | None] = mapped_column(String(32))
    estimate_days: Mapped[float] = mapped_column(Float)
    start: Mapped[date | None] = mapped_column(Date)
    due: Mapped[date | None] = mapped_column(Date)
    priority: Mapped[str] = mapped_column(String(2))
    confidence: Mapped[float] = mapped_column(Float)
    flags: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(16), default=TaskStatus.TODO)
    milestone: Mapped[bool] = mapped_column(Boolean, default=False)
    slack_days: Mapped[float] = mapped_column(Float, default=0.0)
    position: Mapped[int] = mapped_column(Integer, default=0)
    # None: never flagged; otherwise a ReviewState. Tasks under open review are neither synced nor announced.
    review_state: Mapped[str | None] = mapped_column(String(16))
    blocked_reason: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The plan version that added the task: above 1 means it came after the first plan (scope creep).
    added_in_version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Dependency(Base):
    __tablename__ = "dependencies"
    __table_args__ = (UniqueConstraint("launch_id", "from_task_id", "to_task_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    launch_id: Mapped[int] = mapped_column(ForeignKey("launches.id", ondelete="CASCADE"), index=True)
    from_task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    to_task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(200))
    confidence: Mapped[float] = mapped_column(Float, default=1.0)


class TaskReview(Base):
    """One decision on one flagged task of one plan version; the unique key makes a decision happen once."""

    __tablename__ = "task_reviews"
    __table_args__ = (UniqueConstraint("launch_id", "version", "task_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    launch_id: Mapped[int] = mapped_column(ForeignKey("launches.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    task_key: Mapped[str] = mapped_column(String(32))
    # Not a foreign key: a reject deletes the task, and a repeated click must still find its decision.
    task_id: Mapped[int | None] = mapped_column(Integer, index=True)
    task_title: Mapped[str] = mapped_column(String(300))
    decision: Mapped[str] = mapped_column(String(16))  # a ReviewState other than OPEN
    decided_by: Mapped[str] = mapped_column(String(32))
    decided_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class LaunchVersion(Base):
    """A plan version as it was saved (the --json plan document), so earlier versions stay readable."""

    __tablename__ = "launch_versions"
    __table_args__ = (UniqueConstraint("launch_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    launch_id: Mapped[int] = mapped_column(ForeignKey("launches.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    brief: Mapped[str] = mapped_column(Text, default="")
    target_date: Mapped[date] = mapped_column(Date)
    plan: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Outbox(Base):
    """Pending outward work, written in the same transaction as the change that needs it."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "destination", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    destination: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    external_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
