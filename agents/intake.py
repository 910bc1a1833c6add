"""Checks a launch brief from the modal before anything is stored; errors are per field."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from storage.enums import LaunchType
from storage.limits import BRIEF_MAX_CHARS, LAUNCH_NAME_MAX_CHARS


@dataclass
class BriefForm:
    name: str = ""
    brief: str = ""
    target_date: str | None = None
    team: list[str] = field(default_factory=list)
    channel: str | None = None
    launch_type: str | None = None


@dataclass(frozen=True)
class ValidBrief:
    name: str
    brief: str
    target_date: date
    team: list[str]
    channel: str | None
    launch_type: str


def validate_brief_form(form: BriefForm, *, today: date, name_taken: bool) -> ValidBrief | dict[str, str]:
    """A ValidBrief, or errors keyed by field name ("name", "brief", "target_date", "team", ...)."""
    errors: dict[str, str] = {}
    name = " ".join(form.name.split())
    brief = form.brief.strip()
    if not name:
        errors["name"] = "Give the launch a name."
    elif len(name) > LAUNCH_NAME_MAX_CHARS:
        errors["name"] = f"Keep the name under {LAUNCH_NAME_MAX_CHARS} characters."
    elif name_taken:
        errors["name"] = "A launch with this name already exists. Pick another name."
    if not brief:
        errors["brief"] = "Describe the launch: what ships, for whom, and what must be ready."
    elif len(brief) > BRIEF_MAX_CHARS:
        errors["brief"] = (
            f"The brief has {len(brief):,} characters; the limit is {BRIEF_MAX_CHARS:,}. Shorten it."
        )
    target = _parse_date(form.target_date)
    if target is None:
        errors["target_date"] = "Pick a target date."
    elif target < today:
        errors["target_date"] = "The target date is in the past. Pick today or a later day."
    team = [u for u in dict.fromkeys(form.team) if u]
    if not team:
        errors["team"] = "Add at least one person to the team."
    launch_type = form.launch_type or str(LaunchType.SOFTWARE_RELEASE)
    if launch_type not in {str(t) for t in LaunchType}:
        errors["launch_type"] = "Pick a launch type from the list."
    if errors:
        return errors
    assert target is not None
    return ValidBrief(
        name=name,
        brief=brief,
        target_date=target,
        team=team,
        channel=form.channel or None,
        launch_type=launch_type,
    )


def _parse_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None
