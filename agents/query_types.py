"""The typed OKR query both parsers produce (rules offline, an LLM with keys), and its strict validation."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from storage.okr_enums import ObjectiveLevel, OkrStatus

TEXT_MAX = 100
RELATIVE_PERIODS = ("this_quarter", "last_quarter", "next_quarter")
QUARTER = re.compile(r"^(?:(\d{4})-)?q([1-4])$", re.IGNORECASE)
SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]{1,20}$")


class QueryError(ValueError):
    """A query that does not validate: unknown intent, status, name or person."""


class Intent(StrEnum):
    LIST = "list"
    COUNT = "count"
    OWNER = "owner"
    PROGRESS = "progress"


class Subject(StrEnum):
    OBJECTIVES = "objectives"
    KEY_RESULTS = "key_results"


@dataclass(frozen=True)
class Vocabulary:
    """Names the parsers may use: people (slack id -> name), departments, teams and periods."""

    people: dict[str, str] = field(default_factory=dict)
    departments: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    periods: tuple[str, ...] = ()


@dataclass(frozen=True)
class QueryFilters:
    statuses: tuple[OkrStatus, ...] = ()
    period: str | None = None
    level: ObjectiveLevel | None = None
    department: str | None = None
    team: str | None = None
    owner: str | None = None
    text: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "status": [str(s) for s in self.statuses],
            "period": self.period,
            "level": str(self.level) if self.level else None,
            "department": self.department,
            "team": self.team,
            "owner": self.owner,
            "text": self.text,
        }


@dataclass(frozen=True)
class OkrQuery:
    intent: Intent
    subject: Subject
    filters: QueryFilters

    def to_json(self) -> dict[str, Any]:
        return {"intent": str(self.intent), "subject": str(self.subject), "filters": self.filters.to_json()}


# Written for strict structured output (OpenAI strict mode, Anthropic output_config): every property required,
# no extra ones, nullable types instead of optional keys. Lengths and names are checked by query_from_json.
QUERY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["intent", "subject", "filters"],
    "properties": {
        "intent": {"type": "string", "enum": [i.value for i in Intent]},
        "subject": {"type": "string", "enum": [s.value for s in Subject]},
        "filters": {
            "type": "object",
            "additionalProperties": False,
            "required": ["status", "period", "level", "department", "team", "owner", "text"],
            "properties": {
                "status": {"type": "array", "items": {"type": "string", "enum": [s.value for s in OkrStatus]}},
                "period": {"type": ["string", "null"],
                           "description": "this_quarter, last_quarter, next_quarter, Qn, or a period name"},
                "level": {"type": ["string", "null"], "enum": [*[lv.value for lv in ObjectiveLevel], None]},
                "department": {"type": ["string", "null"]},
                "team": {"type": ["string", "null"]},
                "owner": {"type": ["string", "null"], "description": "'me' or a Slack user id from a <@ID>"},
                "text": {"type": ["string", "null"], "description": f"at most {TEXT_MAX} characters"},
            },
        },
    },
}


def _canonical(value: Any, names: tuple[str, ...], what: str) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise QueryError(f"{what} must be a string")
    for name in names:
        if name.lower() == value.strip().lower():
            return name
    raise QueryError(f"unknown {what} {value!r}")


def _period(value: Any, vocabulary: Vocabulary) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise QueryError("period must be a string")
    text = value.strip()
    if text.lower() in RELATIVE_PERIODS:
        return text.lower()
    if QUARTER.match(text):
        return text.upper()
    return _canonical(text, vocabulary.periods, "period")


def _owner(value: Any, vocabulary: Vocabulary) -> str | None:
    if value in (None, ""):
        return None
    if value == "me":
        return "me"
    if isinstance(value, str) and SLACK_USER_ID.match(value) and value in vocabulary.people:
        return value
    raise QueryError(f"unknown owner {value!r}")


def query_from_json(data: Any, vocabulary: Vocabulary) -> OkrQuery:
    """Validate untrusted JSON (an LLM's answer) into an OkrQuery; raise QueryError on anything off."""
    if not isinstance(data, dict) or set(data) - {"intent", "subject", "filters"}:
        raise QueryError("a query is an object with intent, subject and filters")
    try:
        intent, subject = Intent(data.get("intent")), Subject(data.get("subject"))
    except ValueError as exc:
        raise QueryError(str(exc)) from exc
    raw = data.get("filters") or {}
    if not isinstance(raw, dict) or set(raw) - set(QueryFilters().to_json()):
        raise QueryError("filters must be an object with the documented keys only")
    statuses = raw.get("status") or []
    if not isinstance(statuses, list):
        raise QueryError("status must be a list")
    text = raw.get("text")
    if text is not None and (not isinstance(text, str) or len(text) > TEXT_MAX):
        raise QueryError("text must be a short string")
    try:
        level = ObjectiveLevel(raw["level"]) if raw.get("level") else None
        status_values = tuple(sorted({OkrStatus(s) for s in statuses}, key=lambda s: s.severity))
    except ValueError as exc:
        raise QueryError(str(exc)) from exc
    filters = QueryFilters(
        statuses=status_values,
        period=_period(raw.get("period"), vocabulary),
        level=level,
        department=_canonical(raw.get("department"), vocabulary.departments, "department"),
        team=_canonical(raw.get("team"), vocabulary.teams, "team"),
        owner=_owner(raw.get("owner"), vocabulary),
        text=text.strip() or None if text else None,
    )
    return OkrQuery(intent, subject, filters)
