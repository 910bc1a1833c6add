"""The LLM planner's prompt: a static part (instructions, output schema, role list, template catalogue)
that is the same for every launch and so is cached, and a dynamic part built from the redacted brief.

Nothing here sees a person's name: the team is described by role ("engineer x2: engineer-1, engineer-2")
and the brief and examples arrive already redacted by the guardrail.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from agents.plan import Brief, Phase, Priority, TeamMember
from agents.planner import member_role, select_modules
from agents.template_library import Library, load_library

SCHEMA_NAME = "launch_plan"

INSTRUCTIONS = """You are Liftoff's launch planner. From a product launch brief you write the plan: the tasks
the launch team must do before, on and after launch day, who does each (by role), how long each takes in
working days, and which tasks must finish before others can start.

Rules:
- Answer with one JSON object that follows the schema below, and nothing else (no prose, no code fences).
- Every task has a short unique key (letters, digits, dashes), a plain-language title starting with a verb,
  and a one-sentence description.
- role is one of the planner roles listed below. owner is one of the team handles given with the launch
  (for example "engineer-2"), or null to let Liftoff choose. Never invent people or handles.
- estimate_days is elapsed working days (0.125 = one hour). Milestones have milestone true and estimate 0.
- Include exactly one launch-day milestone: phase "launch", milestone true.
- phase is "pre" (before launch day), "launch" (on launch day) or "post" (after it).
- depends_on lists the keys of tasks in this plan that must finish first. Only keys of tasks you listed.
- confidence (0 to 1) is how sure you are of the estimate; below 0.7 means a person should review it.
- module names the template module below the task comes from, or "" for work the templates do not cover.
- Plan only what this launch needs: use the template modules named as matching as the backbone, size
  them to the brief (one task per language, platform or feature it names) and leave out what it rules out.
- The brief may contain placeholders like <PERSON_1> or <EMAIL_2>: personal data removed on purpose.
  Keep them as they are; never guess what they stand for.
"""


@dataclass(frozen=True)
class Prompt:
    static_system: str
    dynamic_system: str
    user: str
    schema: dict[str, Any]
    handles: dict[str, TeamMember]


def output_schema(lib: Library) -> dict[str, Any]:
    """The JSON schema of the answer (strict-mode friendly: every field required, no extra fields)."""
    task = {
        "type": "object",
        "additionalProperties": False,
        "required": [
            "key", "title", "description", "role", "owner", "estimate_days", "priority",
            "confidence", "phase", "milestone", "module", "depends_on",
        ],
        "properties": {
            "key": {"type": "string"},
            "title": {"type": "string"},
            "description": {"type": "string"},
            "role": {"type": "string", "enum": sorted(lib.roles)},
            "owner": {"type": ["string", "null"]},
            "estimate_days": {"type": "number"},
            "priority": {"type": "string", "enum": [str(p) for p in Priority]},
            "confidence": {"type": "number"},
            "phase": {"type": "string", "enum": [str(p) for p in Phase]},
            "milestone": {"type": "boolean"},
            "module": {"type": "string"},
            "depends_on": {"type": "array", "items": {"type": "string"}},
        },
    }
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["tasks"],
        "properties": {"tasks": {"type": "array", "items": task}},
    }


def module_catalogue(lib: Library) -> str:
    """Every template module as compact examples: key, name and its tasks with role, days and order."""
    lines: list[str] = []
    for key in sorted(lib.modules):
        module = lib.modules[key]
        lines.append(f"## {key} ({module.prefix}): {module.name}")
        for t in module.tasks:
            after = f"; after {', '.join(t.after)}" if t.after else ""
            per = f"; one per {t.per}" if t.per else ""
            kind = "milestone" if t.milestone else f"{t.days:g}d"
            lines.append(f"- {t.id}: {t.title} [{t.role}, {kind}, {t.priority}, {t.phase}{after}{per}]")
    return "\n".join(lines)


@lru_cache(maxsize=1)
def static_system() -> str:
    """Identical for every launch, byte for byte, so the provider can serve it from its prompt cache."""
    lib = load_library()
    roles = ", ".join(f"{key} ({spec.team})" for key, spec in sorted(lib.roles.items()))
    return "\n\n".join([
        INSTRUCTIONS,
        "# Output schema\n" + json.dumps(output_schema(lib), sort_keys=True),
        "# Planner roles (team)\n" + roles,
        "# Template modules\n" + module_catalogue(lib),
    ])


def team_handles(team: Sequence[TeamMember], lib: Library | None = None) -> dict[str, TeamMember]:
    """Anonymous handles per role ("engineer-1", "engineer-2") in team order, mapped to the members."""
    lib = lib or load_library()
    counts: dict[str, int] = {}
    handles: dict[str, TeamMember] = {}
    for member in team:
        role = member_role(member, lib)
        counts[role] = counts.get(role, 0) + 1
        handles[f"{role}-{counts[role]}"] = member
    return handles


def describe_team(handles: dict[str, TeamMember]) -> str:
    by_role: dict[str, list[str]] = {}
    for handle in handles:
        by_role.setdefault(handle.rsplit("-", 1)[0], []).append(handle)
    if not by_role:
        return "no team given (leave every owner null)"
    return "; ".join(f"{role} x{len(hs)}: {', '.join(hs)}" for role, hs in by_role.items())


def build_prompt(brief: Brief, redacted_name: str, today: date, examples: Sequence[str]) -> Prompt:
    """The whole prompt for a brief whose text is already redacted; `examples` are redacted past launches."""
    lib = load_library()
    handles = team_handles(brief.team, lib)
    matching = [c.module.key for c in select_modules(brief, lib)]
    dynamic = ["# Template modules matching this brief\n" + ", ".join(matching)]
    if examples:
        dynamic.append("# The most similar past launches of this workspace\n" + "\n\n".join(examples))
    user = "\n".join([
        f"Launch: {redacted_name}",
        f"Launch type: {brief.launch_type}",
        f"Today: {today.isoformat()}",
        f"Target date: {brief.target_date.isoformat()}",
        f"Team (roles, not names): {describe_team(handles)}",
        "",
        "Brief:",
        brief.text,
        "",
        "Write the plan as JSON.",
    ])
    return Prompt(static_system(), "\n\n".join(dynamic), user, output_schema(lib), handles)


def repair_message(error: str) -> str:
    return (
        f"That answer could not be used: {error}. Reply again with the complete plan as one JSON object "
        "that follows the schema exactly, and nothing else."
    )
