"""The planner's template library: launch modules, launch-type profiles, roles and sizing vocabularies.

All of it is YAML data under `agents/templates/` so a PM can add a module without touching code.
`load_library()` parses and validates it once per process.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from agents.plan import Phase, Priority

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
MODULE_DIR = TEMPLATE_DIR / "modules"


class TemplateError(ValueError):
    """A template file is malformed; the message names the file and the problem."""


@dataclass(frozen=True)
class TaskTemplate:
    id: str
    title: str
    description: str
    role: str
    days: float
    priority: Priority = Priority.P2
    confidence: float = 0.85
    after: tuple[str, ...] = ()
    produces: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()
    phase: Phase = Phase.PRE
    milestone: bool = False
    when: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()
    launch_types: tuple[str, ...] = ()
    full_only: bool = False
    per: str | None = None
    per_mentioned_only: bool = False
    # Keywords whose sentences may state this task's length ("a two-week beta").
    days_hint: tuple[str, ...] = ()
    effort: float = 1.0


@dataclass(frozen=True)
class ModuleTemplate:
    key: str
    prefix: str
    name: str
    keywords: tuple[str, ...]
    tasks: tuple[TaskTemplate, ...]
    min_hits: int = 1
    requires: tuple[str, ...] = ()
    covers: tuple[str, ...] = ()
    # A module that is not the point of this launch type runs in this phase (e.g. a webinar after GA).
    secondary_phase: Phase | None = None
    not_for: tuple[str, ...] = ()
    # A sizing dimension whose items count as keyword hits (naming "German" asks for localization).
    dimension_hits: str | None = None
    # Launch types for which this module is the launch itself, so it never runs as secondary work.
    primary_for: tuple[str, ...] = ()
    # Words a brief can rule out ("no marketing") to drop the module even from its launch type's base.
    opt_out: tuple[str, ...] = ()
    # Task ids with a fixed job in the launch spine (start, gate, milestone); only the launch module has them.
    anchors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LaunchProfile:
    key: str
    modules: tuple[str, ...]
    functions: tuple[str, ...]
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class RoleSpec:
    key: str
    team: str
    fallback: tuple[str, ...] = ()


@dataclass(frozen=True)
class DimensionItem:
    name: str
    match: tuple[str, ...]
    attrs: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Dimension:
    key: str
    items: tuple[DimensionItem, ...]
    default: tuple[DimensionItem, ...]
    max_items: int = 12


@dataclass(frozen=True)
class Library:
    modules: dict[str, ModuleTemplate]
    profiles: dict[str, LaunchProfile]
    roles: dict[str, RoleSpec]
    role_aliases: dict[str, str]
    dimensions: dict[str, Dimension]
    functions: dict[str, tuple[str, ...]]
    default_profile: str
    # Words that mark a small release (a patch, a hotfix): every module is planned at light depth.
    light_scope: tuple[str, ...] = ()

    def profile_for(self, launch_type: str) -> LaunchProfile:
        """The profile for a launch type or one of its aliases; unknown types get the default."""
        wanted = normalize_key(launch_type)
        if wanted in self.profiles:
            return self.profiles[wanted]
        for profile in self.profiles.values():
            if wanted in profile.aliases:
                return profile
        return self.profiles[self.default_profile]

    def normalize_role(self, role: str) -> str:
        key = normalize_key(role)
        return self.role_aliases.get(key, key)


def normalize_key(text: str) -> str:
    return "_".join(text.strip().lower().replace("-", " ").replace("/", " ").split())


def _tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise TemplateError(f"{path.name}: not valid YAML: {exc}") from exc


def _parse_task(raw: dict[str, Any], where: str) -> TaskTemplate:
    for required in ("id", "title", "role", "days"):
        if required not in raw:
            raise TemplateError(f"{where}: task is missing {required!r}: {raw}")
    return TaskTemplate(
        id=str(raw["id"]),
        title=str(raw["title"]),
        description=str(raw.get("description", "")).strip(),
        role=normalize_key(str(raw["role"])),
        days=float(raw["days"]),
        priority=Priority(raw.get("priority", "P2")),
        confidence=float(raw.get("confidence", 0.85)),
        after=_tuple(raw.get("after")),
        produces=_tuple(raw.get("produces")),
        needs=_tuple(raw.get("needs")),
        phase=Phase(raw.get("phase", "pre")),
        milestone=bool(raw.get("milestone", False)),
        when=_tuple(raw.get("when")),
        unless=_tuple(raw.get("unless")),
        launch_types=_tuple(raw.get("launch_types")),
        full_only=raw.get("depth", "core") == "full",
        per=raw.get("per"),
        per_mentioned_only=bool(raw.get("per_mentioned_only", False)),
        days_hint=_tuple(raw.get("days_hint")),
        effort=float(raw.get("effort", 1.0)),
    )


def _parse_module(path: Path) -> ModuleTemplate:
    raw = _read_yaml(path)
    if not isinstance(raw, dict):
        raise TemplateError(f"{path.name}: expected a mapping at the top level")
    select = raw.get("select", {}) or {}
    tasks = tuple(_parse_task(t, path.name) for t in raw.get("tasks", []))
    secondary = raw.get("secondary_phase")
    module = ModuleTemplate(
        key=str(raw["key"]),
        prefix=str(raw["prefix"]),
        name=str(raw["name"]),
        keywords=_tuple(select.get("keywords")),
        min_hits=int(select.get("min_hits", 1)),
        requires=_tuple(select.get("requires")),
        not_for=_tuple(select.get("not_for")),
        covers=_tuple(raw.get("covers")),
        secondary_phase=Phase(secondary) if secondary else None,
        dimension_hits=select.get("dimension_hits"),
        primary_for=_tuple(select.get("primary_for")),
        opt_out=_tuple(select.get("opt_out")),
        anchors={str(k): str(v) for k, v in (raw.get("anchors") or {}).items()},
        tasks=tasks,
    )
    _check_module(module, path.name)
    return module


def _check_module(module: ModuleTemplate, where: str) -> None:
    ids = [t.id for t in module.tasks]
    if len(ids) != len(set(ids)):
        raise TemplateError(f"{where}: duplicate task ids")
    known = set(ids)
    for anchor in module.anchors.values():
        if anchor not in known:
            raise TemplateError(f"{where}: anchor {anchor!r} is not a task of the module")
    for task in module.tasks:
        for ref in task.after:
            if ref not in known:
                raise TemplateError(f"{where}: task {task.id!r} comes after unknown task {ref!r}")


def _parse_dimension(key: str, raw: dict[str, Any]) -> Dimension:
    def item(entry: dict[str, Any]) -> DimensionItem:
        attrs = {k: str(v) for k, v in entry.items() if k not in ("name", "match")}
        return DimensionItem(name=str(entry["name"]), match=_tuple(entry.get("match")), attrs=attrs)

    return Dimension(
        key=key,
        items=tuple(item(e) for e in raw.get("items", [])),
        default=tuple(item(e) for e in raw.get("default", [])),
        max_items=int(raw.get("max_items", 12)),
    )


@lru_cache(maxsize=1)
def load_library(template_dir: Path = TEMPLATE_DIR) -> Library:
    """Parse every template file; raises TemplateError naming the file when one is malformed."""
    modules: dict[str, ModuleTemplate] = {}
    for path in sorted((template_dir / "modules").glob("*.yaml")):
        module = _parse_module(path)
        if module.key in modules:
            raise TemplateError(f"{path.name}: module key {module.key!r} is used twice")
        modules[module.key] = module
    prefixes = [m.prefix for m in modules.values()]
    if len(prefixes) != len(set(prefixes)):
        raise TemplateError("two modules share a key prefix")

    raw_types = _read_yaml(template_dir / "launch_types.yaml")
    profiles = {
        key: LaunchProfile(
            key=key,
            modules=_tuple(spec.get("modules")),
            functions=_tuple(spec.get("functions")),
            aliases=tuple(normalize_key(a) for a in _tuple(spec.get("aliases"))),
        )
        for key, spec in raw_types["launch_types"].items()
    }
    for profile in profiles.values():
        for module_key in profile.modules:
            if module_key not in modules:
                raise TemplateError(f"launch_types.yaml: {profile.key} names unknown module {module_key!r}")
    for module in modules.values():
        for module_key in module.requires:
            if module_key not in modules:
                raise TemplateError(f"{module.key}: requires unknown module {module_key!r}")

    raw_roles = _read_yaml(template_dir / "roles.yaml")
    roles = {
        key: RoleSpec(key=key, team=str(spec["team"]), fallback=_tuple(spec.get("fallback")))
        for key, spec in raw_roles["roles"].items()
    }
    aliases = {normalize_key(k): str(v) for k, v in (raw_roles.get("aliases") or {}).items()}
    functions = {key: _tuple(teams) for key, teams in (raw_roles.get("functions") or {}).items()}
    for module in modules.values():
        for task in module.tasks:
            if task.role not in roles:
                raise TemplateError(f"{module.key}: task {task.id!r} has unknown role {task.role!r}")

    raw_dims = _read_yaml(template_dir / "dimensions.yaml")
    dimensions = {key: _parse_dimension(key, spec) for key, spec in raw_dims.items()}
    for module in modules.values():
        for task in module.tasks:
            if task.per and task.per not in dimensions and task.per != "feature":
                raise TemplateError(f"{module.key}: task {task.id!r} repeats per unknown {task.per!r}")

    return Library(
        modules=modules,
        profiles=profiles,
        roles=roles,
        role_aliases=aliases,
        dimensions=dimensions,
        functions=functions,
        default_profile=str(raw_types.get("default", "software_release")),
        light_scope=_tuple(raw_types.get("light_scope")),
    )


@dataclass(frozen=True)
class GateRule:
    before: str
    after: str
    confidence: float


@dataclass(frozen=True)
class Gates:
    categories: dict[str, tuple[Any, ...]]
    rules: tuple[GateRule, ...]


@lru_cache(maxsize=1)
def load_gates(template_dir: Path = TEMPLATE_DIR) -> Gates:
    """Cross-module gate rules (see templates/gates.yaml), with their title patterns compiled."""
    import re

    raw = _read_yaml(template_dir / "gates.yaml")
    try:
        categories = {
            name: tuple(re.compile(p) for p in _tuple(patterns))
            for name, patterns in raw["categories"].items()
        }
    except re.error as exc:
        raise TemplateError(f"gates.yaml: bad pattern: {exc}") from exc
    rules = []
    for rule in raw["rules"]:
        for side in ("before", "after"):
            if rule[side] not in categories:
                raise TemplateError(f"gates.yaml: rule names unknown category {rule[side]!r}")
        rules.append(GateRule(str(rule["before"]), str(rule["after"]), float(rule["confidence"])))
    return Gates(categories=categories, rules=tuple(rules))
