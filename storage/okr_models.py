"""OKR tables: periods, objectives, key results, check-ins (the history), comments, profiles, settings."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, utcnow
from storage.okr_enums import ApprovalState, ObjectiveLevel, OkrStatus, ProgressSource, Visibility


class OkrPeriod(Base):
    __tablename__ = "okr_periods"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(40))
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)


class OkrProfile(Base):
    """Where a person sits: their department, team and title (roles live on users)."""

    __tablename__ = "okr_profiles"
    __table_args__ = (UniqueConstraint("workspace_id", "slack_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    slack_id: Mapped[str] = mapped_column(String(32))
    department: Mapped[str | None] = mapped_column(String(80))
    team: Mapped[str | None] = mapped_column(String(80))
    title: Mapped[str | None] = mapped_column(String(200))


class Objective(Base):
    __tablename__ = "okr_objectives"
    __table_args__ = (
        UniqueConstraint("workspace_id", "key"),
        Index("ix_okr_objectives_scope_period", "workspace_id", "period_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    level: Mapped[str] = mapped_column(String(16), default=ObjectiveLevel.TEAM)
    owner_id: Mapped[str] = mapped_column(String(32))
    department: Mapped[str | None] = mapped_column(String(80))
    team: Mapped[str | None] = mapped_column(String(80))
    period_id: Mapped[int] = mapped_column(ForeignKey("okr_periods.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("okr_objectives.id", ondelete="SET NULL"), index=True)
    visibility: Mapped[str] = mapped_column(String(16), default=Visibility.PUBLIC)
    approval: Mapped[str] = mapped_column(String(16), default=ApprovalState.APPROVED)
    return_reason: Mapped[str | None] = mapped_column(Text)
    # Rollup cache, rewritten along the path to the root by every check-in.
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    status: Mapped[str] = mapped_column(String(16), default=OkrStatus.ON_TRACK)
    status_on: Mapped[date | None] = mapped_column(Date)
    created_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class KeyResult(Base):
    __tablename__ = "okr_key_results"
    __table_args__ = (
        UniqueConstraint("workspace_id", "key"),
        # Questions as of a day check whether any check-in came after it (migration 0007).
        Index("ix_okr_key_results_scope_checkin", "workspace_id", "last_checkin_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    objective_id: Mapped[int] = mapped_column(ForeignKey("okr_objectives.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    owner_id: Mapped[str] = mapped_column(String(32), index=True)
    start_value: Mapped[float] = mapped_column(Float)
    target_value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(40), default="")
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    source: Mapped[str] = mapped_column(String(16), default=ProgressSource.MANUAL)
    # launch id, JQL or metric name, depending on the source.
    source_ref: Mapped[str | None] = mapped_column(String(500))
    # Rollup cache: facts that do not depend on today once today is past the last check-in.
    current_value: Mapped[float | None] = mapped_column(Float)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    forecast: Mapped[float | None] = mapped_column(Float)
    last_checkin_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default=OkrStatus.ON_TRACK)


class CheckIn(Base):
    __tablename__ = "okr_checkins"
    __table_args__ = (
        UniqueConstraint("key_result_id", "source_ref"),
        Index("ix_okr_checkins_kr_day", "key_result_id", "day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    key_result_id: Mapped[int] = mapped_column(ForeignKey("okr_key_results.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    value: Mapped[float] = mapped_column(Float)
    confidence: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16), default=ProgressSource.MANUAL)
    # Idempotency for automatic updates (e.g. metric:NAME:TIMESTAMP); NULL for people's check-ins.
    source_ref: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class OkrComment(Base):
    __tablename__ = "okr_comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    objective_id: Mapped[int] = mapped_column(ForeignKey("okr_objectives.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    mentions: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class OkrDecision(Base):
    """Every approval-flow step (submitted, approved, returned) with who and why."""

    __tablename__ = "okr_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    objective_id: Mapped[int] = mapped_column(ForeignKey("okr_objectives.id", ondelete="CASCADE"), index=True)
    actor: Mapped[str] = mapped_column(String(32))
    decision: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class OkrSettings(Base):
    """Per-workspace progress rules (JSON of the thresholds) and the metrics webhook secret."""

    __tablename__ = "okr_settings"

    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True)
    rules: Mapped[dict[str, Any]] = mapped_column(default=dict)
    metric_secret: Mapped[str | None] = mapped_column(String(128))
