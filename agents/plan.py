"""Domain types of a launch plan, shared by the planner, dependency and evaluator agents.

These are plain dataclasses: the pipeline runs the same from Slack, the CLI, a job or a test,
and the `--json` output of `liftoff plan` is `Plan.to_json()`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any


class Priority(StrEnum):
    P0 = "P0"
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"


class EdgeKind(StrEnum):
    BLOCKS = "blocks"
    RELATED = "related"


class Phase(StrEnum):
    """When a task happens relative to the launch-day milestone."""

    PRE = "pre"
    LAUNCH = "launch"
    POST = "post"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


@dataclass(frozen=True)
class TeamMember:
    name: str
    role: str
    slack_id: str | None = None


@dataclass(frozen=True)
class Brief:
    """What a PM gives us: the launch, its date, its kind and its people."""

    name: str
    target_date: date
    text: str
    launch_type: str = "software_release"
    team: tuple[TeamMember, ...] = ()
    channel: str | None = None


@dataclass
class PlannedTask:
    key: str
    title: str
    description: str
    team: str
    role: str
    estimate_days: float
    priority: Priority = Priority.P2
    confidence: float = 0.9
    module: str = ""
    milestone: bool = False
    assignee: str | None = None
    start: date | None = None
    due: date | None = None
    flags: list[str] = field(default_factory=list)
    # Not part of to_json: planning metadata the dependency agent and scheduler read.
    phase: Phase = Phase.PRE
    produces: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()
    # Share of the elapsed estimate that is the owner's own work (a beta run or a store review is
    # mostly waiting).
    effort_share: float = 1.0

    @property
    def effort_days(self) -> float:
        return self.estimate_days * self.effort_share

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "description": self.description,
            "team": self.team,
            "role": self.role,
            "assignee": self.assignee,
            "estimate_days": self.estimate_days,
            "start": self.start.isoformat() if self.start else None,
            "due": self.due.isoformat() if self.due else None,
            "priority": str(self.priority),
            "confidence": round(self.confidence, 3),
            "flags": list(self.flags),
        }


@dataclass(frozen=True)
class Edge:
    """`from_key` must be done before `to_key` can start (when kind is blocks)."""

    from_key: str
    to_key: str
    kind: EdgeKind = EdgeKind.BLOCKS
    source: str = "template"
    confidence: float = 1.0

    def to_json(self) -> dict[str, Any]:
        return {"from": self.from_key, "to": self.to_key, "kind": str(self.kind), "source": self.source}


@dataclass(frozen=True)
class Risk:
    code: str
    severity: Severity
    evidence: str

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "severity": str(self.severity), "evidence": self.evidence}


@dataclass
class Plan:
    brief: Brief
    tasks: list[PlannedTask]
    edges: list[Edge]
    critical_path: list[str] = field(default_factory=list)
    critical_path_days: float = 0.0
    risks: list[Risk] = field(default_factory=list)
    quality_score: float = 0.0
    slack_days: dict[str, float] = field(default_factory=dict)

    def task(self, key: str) -> PlannedTask:
        for task in self.tasks:
            if task.key == key:
                return task
        raise KeyError(key)

    def to_json(self) -> dict[str, Any]:
        return {
            "launch": {
                "name": self.brief.name,
                "target_date": self.brief.target_date.isoformat(),
                "launch_type": self.brief.launch_type,
            },
            "tasks": [t.to_json() for t in self.tasks],
            "dependencies": [e.to_json() for e in self.edges],
            "critical_path": list(self.critical_path),
            "critical_path_days": self.critical_path_days,
            "risks": [r.to_json() for r in self.risks],
            "quality_score": round(self.quality_score, 3),
        }
