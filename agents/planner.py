"""The offline template planner: turns a brief into tasks and template edges.

Modules are chosen from the launch type's profile plus the modules whose keywords the brief names;
each module is sized by the brief (one task per language, platform, SDK or named feature), and every
task gets an owner from the launch team, balanced by the work already assigned.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agents.brief_scope import BriefText, Feature, extract_features, stated_days
from agents.plan import Brief, Edge, EdgeKind, Phase, PlannedTask, TeamMember
from agents.roles import role_from_title
from agents.template_library import (
    DimensionItem,
    Library,
    ModuleTemplate,
    TaskTemplate,
    load_library,
)

LAUNCH_MODULE = "launch"
UNOWNED = "unowned"
TEMPLATE_SOURCE = "template"
_FEATURE = "feature"
_FEATURE_WORK = "feature_work"
# A plan past this many tasks stops being read; the extra depth is trimmed first (see _trim).
MAX_TASKS = 300
_PRIORITY_ORDER = {"P3": 0, "P2": 1, "P1": 2, "P0": 3}


@dataclass(frozen=True)
class ModuleChoice:
    module: ModuleTemplate
    full: bool
    reason: str


@dataclass
class _Instance:
    template: TaskTemplate
    task: PlannedTask
    item_index: int | None


@dataclass
class _ModulePlan:
    choice: ModuleChoice
    instances: dict[str, list[_Instance]] = field(default_factory=dict)


def select_modules(brief: Brief, library: Library | None = None) -> list[ModuleChoice]:
    """The modules this launch needs: its type's base modules plus those the brief names."""
    lib = library or load_library()
    profile = lib.profile_for(brief.launch_type)
    text = BriefText(brief.name, brief.text)
    chosen: dict[str, ModuleChoice] = {}
    full = not text.mentions_any(lib.light_scope)
    ruled_out = {key for key, m in lib.modules.items() if any(text.rules_out(k) for k in m.opt_out)}
    for key in profile.modules:
        if key not in ruled_out:
            chosen[key] = ModuleChoice(lib.modules[key], full=full, reason=f"always part of a {profile.key}")
    for key in sorted(lib.modules):
        module = lib.modules[key]
        if key in chosen or key in ruled_out or not module.keywords or profile.key in module.not_for:
            continue
        named = [k for k in module.keywords if text.mentions(k)]
        hits = sum(text.hits(k) for k in named)
        if module.dimension_hits and text.items_of(lib.dimensions[module.dimension_hits]):
            named.append(module.dimension_hits)
            hits += 1
        if len(named) >= module.min_hits:
            reason = "the brief mentions " + ", ".join(k.replace("$", "") for k in named[:3])
            chosen[key] = ModuleChoice(module, full=full and hits >= 2, reason=reason)
    for choice in list(chosen.values()):
        for key in choice.module.requires:
            if key not in chosen and key not in ruled_out:
                chosen[key] = ModuleChoice(
                    lib.modules[key], full=full, reason=f"needed by {choice.module.key}"
                )
    order = [k for k in profile.modules if k in chosen] + sorted(
        k for k in chosen if k not in profile.modules
    )
    return [chosen[k] for k in order]


def plan_from_templates(brief: Brief) -> tuple[list[PlannedTask], list[Edge]]:
    """Plan a launch offline from the template library. Same brief in, same plan out."""
    lib = load_library()
    profile = lib.profile_for(brief.launch_type)
    text = BriefText(brief.name, brief.text)
    choices = select_modules(brief, lib)
    covered = [kw for c in choices for kw in c.module.covers]
    features = extract_features(brief.text, covered)
    # With no product change named, a generic "Build: the features in scope" only duplicates the build
    # work another module already plans (billing setup, API limits); keep it only when nothing else builds.
    others_build = any(
        _FEATURE_WORK in t.produces and _wanted(t, c, text, profile.key)
        for c in choices
        if c.module.covers and c.module.key != "engineering"
        for t in c.module.tasks
    )

    plans: list[_ModulePlan] = []
    for choice in choices:
        module = choice.module
        primary = module.key in profile.modules or profile.key in module.primary_for
        secondary = None if primary else module.secondary_phase
        plans.append(_instantiate(choice, lib, text, profile.key, features, secondary, others_build))
    _trim(plans, MAX_TASKS)

    intra = {id(p): _intra_module_edges(p) for p in plans}
    edges = [e for p in plans for e in intra[id(p)]]
    edges.extend(_spine_edges(plans, intra))

    tasks = [inst.task for mp in plans for group in mp.instances.values() for inst in group]
    assign_owners(tasks, brief.team, lib)
    return tasks, _dedupe(edges)


def _items_for(
    template: TaskTemplate, lib: Library, text: BriefText, features: list[Feature], others_build: bool
) -> list[DimensionItem]:
    if template.per is None:
        return []
    if template.per == _FEATURE:
        found = [DimensionItem(name=f.text, match=()) for f in features]
        if found or others_build or _FEATURE not in lib.dimensions:
            return found
        return list(lib.dimensions[_FEATURE].default)
    dimension = lib.dimensions[template.per]
    found = text.items_of(dimension)
    if found or template.per_mentioned_only:
        return found
    return list(dimension.default)


def _wanted(template: TaskTemplate, choice: ModuleChoice, text: BriefText, launch_type: str) -> bool:
    if template.full_only and not choice.full:
        return False
    if template.launch_types and launch_type not in template.launch_types:
        return False
    if template.when and not text.mentions_any(template.when):
        return False
    return not (template.unless and text.mentions_any(template.unless))


def _fill(pattern: str, item: DimensionItem | None) -> str:
    if item is None:
        return pattern
    values = {"item": item.name, "name": item.name, **item.attrs}
    for key, value in values.items():
        pattern = pattern.replace("{" + key + "}", value)
    return pattern


def _instantiate(
    choice: ModuleChoice,
    lib: Library,
    text: BriefText,
    launch_type: str,
    features: list[Feature],
    secondary: Phase | None,
    others_build: bool = False,
) -> _ModulePlan:
    module = choice.module
    plan = _ModulePlan(choice)
    number = 0
    for template in module.tasks:
        if not _wanted(template, choice, text, launch_type):
            continue
        items: list[DimensionItem | None] = list(_items_for(template, lib, text, features, others_build))
        if template.per is None:
            items = [None]
        days = template.days
        if template.days_hint:
            days = stated_days(text, template.days_hint) or days
        group: list[_Instance] = []
        for index, item in enumerate(items):
            number += 1
            task = PlannedTask(
                key=f"{module.prefix}-{number}",
                title=_fill(template.title, item),
                description=_fill(template.description, item),
                team=lib.roles[template.role].team,
                role=template.role,
                estimate_days=0.0 if template.milestone else days,
                priority=template.priority,
                confidence=template.confidence,
                module=module.key,
                milestone=template.milestone,
                phase=secondary or template.phase,
                produces=template.produces,
                needs=template.needs,
                effort_share=template.effort,
            )
            group.append(_Instance(template, task, index if template.per else None))
        if group:
            plan.instances[template.id] = group
    return plan


def _trim(plans: list[_ModulePlan], limit: int) -> None:
    """Drop optional depth until the plan fits the limit: full-only tasks first, then P3 and P2 work
    outside the launch spine, least important first. P0 and P1 work is never dropped."""
    count = sum(len(g) for p in plans for g in p.instances.values())
    if count <= limit:
        return
    groups = [
        (p, template_id, group)
        for p in reversed(plans)
        if p.choice.module.key != LAUNCH_MODULE
        for template_id, group in p.instances.items()
    ]
    optional = [g for g in groups if g[2][0].template.full_only]
    optional.sort(key=lambda entry: _PRIORITY_ORDER[str(entry[2][0].template.priority)])
    minor = [
        g
        for g in groups
        if not g[2][0].template.full_only and _PRIORITY_ORDER[str(g[2][0].template.priority)] < 2
    ]
    minor.sort(key=lambda entry: _PRIORITY_ORDER[str(entry[2][0].template.priority)])
    for plan, template_id, group in optional + minor:
        if count <= limit:
            break
        del plan.instances[template_id]
        count -= len(group)
    for plan in plans:
        tasks = [i.task for g in plan.instances.values() for i in g]
        for number, task in enumerate(tasks, start=1):
            task.key = f"{plan.choice.module.prefix}-{number}"


def _resolve(ref: str, module: ModuleTemplate, present: dict[str, list[_Instance]]) -> list[str]:
    """Template ids standing in for `ref`: itself if planned, else what it came after (transitively)."""
    if ref in present:
        return [ref]
    by_id = {t.id: t for t in module.tasks}
    resolved: list[str] = []
    for parent in by_id[ref].after:
        resolved.extend(r for r in _resolve(parent, module, present) if r not in resolved)
    return resolved


def _intra_module_edges(plan: _ModulePlan) -> list[Edge]:
    edges: list[Edge] = []
    module = plan.choice.module
    for group in plan.instances.values():
        template = group[0].template
        for ref in template.after:
            for pred_id in _resolve(ref, module, plan.instances):
                preds = plan.instances[pred_id]
                same_dimension = template.per is not None and preds[0].template.per == template.per
                for inst in group:
                    for pred in preds:
                        if same_dimension and pred.item_index != inst.item_index:
                            continue
                        edges.append(
                            Edge(pred.task.key, inst.task.key, EdgeKind.BLOCKS, TEMPLATE_SOURCE, 1.0)
                        )
    return edges


def _spine_edges(plans: list[_ModulePlan], intra: dict[int, list[Edge]]) -> list[Edge]:
    """Tie every module into the launch spine: start -> module work -> gate -> launch day -> after."""
    spine = next((p for p in plans if p.choice.module.key == LAUNCH_MODULE), None)
    if spine is None:
        return []
    anchors = spine.choice.module.anchors
    start = spine.instances[anchors["start"]][0].task.key
    gate = spine.instances[anchors["gate"]][0].task.key
    milestone = spine.instances[anchors["milestone"]][0].task.key
    edges: list[Edge] = []
    for plan in plans:
        if plan is spine:
            continue
        module_edges = intra[id(plan)]
        phase_of = {i.task.key: i.task.phase for g in plan.instances.values() for i in g}
        preds: dict[str, set[str]] = {k: set() for k in phase_of}
        succs: dict[str, set[str]] = {k: set() for k in phase_of}
        for edge in module_edges:
            preds[edge.to_key].add(edge.from_key)
            succs[edge.from_key].add(edge.to_key)
        for key, phase in phase_of.items():
            if phase == Phase.PRE:
                if not preds[key]:
                    edges.append(Edge(start, key, EdgeKind.BLOCKS, TEMPLATE_SOURCE, 1.0))
                if not any(phase_of[s] == Phase.PRE for s in succs[key]):
                    edges.append(Edge(key, gate, EdgeKind.BLOCKS, TEMPLATE_SOURCE, 1.0))
            elif not any(phase_of[p] != Phase.PRE for p in preds[key]):
                edges.append(Edge(milestone, key, EdgeKind.BLOCKS, TEMPLATE_SOURCE, 1.0))
    return edges


def _dedupe(edges: list[Edge]) -> list[Edge]:
    seen: set[tuple[str, str]] = set()
    unique: list[Edge] = []
    for edge in edges:
        pair = (edge.from_key, edge.to_key)
        if pair not in seen:
            seen.add(pair)
            unique.append(edge)
    return unique


def member_role(member: TeamMember, lib: Library) -> str:
    """The planner role of a team member: their role, an alias of one, or what their job title suggests."""
    role = lib.normalize_role(member.role)
    return role if role in lib.roles else role_from_title(member.role)


def candidates_for(role: str, team: tuple[TeamMember, ...], lib: Library) -> list[TeamMember]:
    """Team members who can take a task of this role: the role itself, else its fallbacks in order."""
    by_role: dict[str, list[TeamMember]] = {}
    for member in team:
        by_role.setdefault(member_role(member, lib), []).append(member)
    spec = lib.roles.get(role)
    for wanted in (role, *(spec.fallback if spec else ())):
        if by_role.get(wanted):
            return by_role[wanted]
    return []


def assign_owners(
    tasks: list[PlannedTask],
    team: tuple[TeamMember, ...],
    lib: Library | None = None,
    load: dict[str, float] | None = None,
) -> None:
    """Give each task the least-loaded person who fits its role; flag it unowned when nobody does.

    `load` is days already given to each person (it is updated), when some tasks were assigned before.
    """
    lib = lib or load_library()
    load = load if load is not None else {m.name: 0.0 for m in team}
    order = {m.name: i for i, m in enumerate(team)}
    for task in tasks:
        people = candidates_for(task.role, team, lib)
        if not people:
            task.assignee = None
            if UNOWNED not in task.flags:
                task.flags.append(UNOWNED)
            continue
        chosen = min(people, key=lambda m: (load[m.name], order[m.name]))
        task.assignee = chosen.name
        load[chosen.name] += max(task.effort_days, 0.25)
