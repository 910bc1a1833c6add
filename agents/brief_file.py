"""Brief files: Markdown with YAML front matter (name, target_date, launch_type, team, channel)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import yaml

from agents.plan import Brief, TeamMember
from storage.enums import LaunchType


class BriefFileError(ValueError):
    """A brief file that cannot be read; the message says what to fix."""


def load_brief(path: str | Path) -> Brief:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise BriefFileError(f"cannot read {path}: {exc.strerror}") from exc
    return parse_brief(text, source=str(path))


def parse_brief(text: str, *, source: str = "brief") -> Brief:
    front, body = _split_front_matter(text, source)
    try:
        meta = yaml.safe_load(front) or {}
    except yaml.YAMLError as exc:
        raise BriefFileError(
            f"{source}: the front matter is not valid YAML ({exc.__class__.__name__})"
        ) from exc
    if not isinstance(meta, dict):
        raise BriefFileError(f"{source}: the front matter must be a mapping of fields")
    name = str(meta.get("name") or "").strip()
    if not name:
        raise BriefFileError(f"{source}: `name` is missing")
    return Brief(
        name=name,
        target_date=_date(meta.get("target_date"), source),
        text=body.strip(),
        launch_type=_launch_type(meta.get("launch_type")),
        team=tuple(_member(m, source) for m in meta.get("team") or []),
        channel=(str(meta["channel"]).strip() if meta.get("channel") else None),
    )


def _split_front_matter(text: str, source: str) -> tuple[str, str]:
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != "---":
        raise BriefFileError(f"{source}: a brief starts with YAML front matter between two '---' lines")
    for index, line in enumerate(lines[1:], start=1):
        if line.strip() == "---":
            return "\n".join(lines[1:index]), "\n".join(lines[index + 1 :])
    raise BriefFileError(f"{source}: the front matter has no closing '---' line")


def _date(value: Any, source: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise BriefFileError(
            f"{source}: `target_date` must be a date like 2027-03-15 (got {value!r})"
        ) from exc


def _launch_type(value: Any) -> str:
    try:
        return str(LaunchType(str(value).strip())) if value else str(LaunchType.SOFTWARE_RELEASE)
    except ValueError:
        return str(LaunchType.SOFTWARE_RELEASE)


def _member(raw: Any, source: str) -> TeamMember:
    if not isinstance(raw, dict) or not raw.get("name"):
        raise BriefFileError(f"{source}: each team entry needs at least a name and a role")
    return TeamMember(
        name=str(raw["name"]).strip(),
        role=str(raw.get("role") or "member").strip().lower(),
        slack_id=str(raw["slack_id"]).strip() if raw.get("slack_id") else None,
    )
