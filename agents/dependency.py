"""The dependency agent: infers cross-module edges, breaks cycles and computes the critical path.

`infer_edges` (agents/edge_inference.py) adds edges the templates cannot know about, `analyze` breaks
cycles and turns the edges into a schedule skeleton (earliest/latest times, slack, critical path).
Schedule and resource conflicts live in agents/conflicts.py. All of it is importable from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx

from agents.conflicts import (
    ResourceConflict,
    ScheduleConflict,
    resource_conflicts,
    schedule_conflicts,
)
from agents.edge_inference import BLOCKS_THRESHOLD, infer_edges, make_inferred_edge
from agents.plan import Edge, EdgeKind, PlannedTask, Priority
from agents.scheduler import launch_milestone, topological_order

__all__ = [
    "BLOCKS_THRESHOLD",
    "CYCLE_BROKEN",
    "DependencyAnalysis",
    "ResourceConflict",
    "ScheduleConflict",
    "analyze",
    "critical_path_length",
    "infer_edges",
    "make_inferred_edge",
    "resource_conflicts",
    "schedule_conflicts",
]

CYCLE_BROKEN = "cycle_broken"
_EPS = 1e-9

_SOURCE_RANK = {"template": 4, "artefact": 3, "launch_spine": 3, "gate": 2, "llm": 1, "text": 0}
_PRIORITY_RANK = {Priority.P0: 3, Priority.P1: 2, Priority.P2: 1, Priority.P3: 0}


@dataclass
class DependencyAnalysis:
    edges: list[Edge]
    broken_edges: list[Edge]
    critical_path: list[str]
    critical_path_days: float
    slack: dict[str, float]
    earliest_start: dict[str, float]
    earliest_finish: dict[str, float]
    latest_start: dict[str, float] = field(default_factory=dict)
    latest_finish: dict[str, float] = field(default_factory=dict)
    # The launch-day milestone the critical path ends at, when the plan has one.
    launch_key: str | None = None

    def is_critical(self, key: str) -> bool:
        return abs(self.slack.get(key, 1.0)) < 1e-6


def _source_family(source: str) -> str:
    return source.split(":", 1)[0]


def _edge_rank(edge: Edge, by_key: dict[str, PlannedTask]) -> tuple:
    """Lower is weaker: confidence, then how the edge was found, then the tasks' priorities."""
    return (
        edge.confidence,
        _SOURCE_RANK.get(_source_family(edge.source), 1),
        _PRIORITY_RANK.get(by_key[edge.to_key].priority, 0),
        _PRIORITY_RANK.get(by_key[edge.from_key].priority, 0),
        edge.from_key,
        edge.to_key,
    )


def break_cycles(tasks: list[PlannedTask], edges: list[Edge]) -> tuple[list[Edge], list[Edge]]:
    """Remove the weakest edge of each cycle until none is left; flag each dependent task cycle_broken."""
    by_key = {t.key: t for t in tasks}
    blocking = {(e.from_key, e.to_key): e for e in edges if e.kind == EdgeKind.BLOCKS}
    graph = nx.DiGraph(list(blocking))
    broken: list[Edge] = []
    while True:
        components = [c for c in nx.strongly_connected_components(graph) if len(c) > 1]
        loops = list(nx.selfloop_edges(graph))
        if not components and not loops:
            break
        cycles = [[loop] for loop in loops]
        for component in sorted(components, key=min):
            cycles.append(nx.find_cycle(graph.subgraph(component)))
        for cycle in cycles:
            live = [pair for pair in cycle if graph.has_edge(*pair)]
            if not live:
                continue
            weakest = min((blocking[pair] for pair in live), key=lambda e: _edge_rank(e, by_key))
            graph.remove_edge(weakest.from_key, weakest.to_key)
            broken.append(weakest)
            flags = by_key[weakest.to_key].flags
            if CYCLE_BROKEN not in flags:
                flags.append(CYCLE_BROKEN)
    removed = {(e.from_key, e.to_key) for e in broken}
    kept = [e for e in edges if e.kind != EdgeKind.BLOCKS or (e.from_key, e.to_key) not in removed]
    return kept, broken


def analyze(tasks: list[PlannedTask], edges: list[Edge]) -> DependencyAnalysis:
    """Break cycles, then the critical-path method over blocks edges (durations in working days).

    With a launch-day milestone the launch date is fixed: the critical path is the longest chain that
    ends at the milestone, and slack of pre-launch work is measured against it.
    """
    by_key = {t.key: t for t in tasks}
    known = [e for e in edges if e.from_key in by_key and e.to_key in by_key]
    kept, broken = break_cycles(tasks, known)
    keys = [t.key for t in tasks]
    pairs = [(e.from_key, e.to_key) for e in kept if e.kind == EdgeKind.BLOCKS]
    order = topological_order(keys, pairs)
    preds: dict[str, list[str]] = {k: [] for k in keys}
    succs: dict[str, list[str]] = {k: [] for k in keys}
    for a, b in pairs:
        preds[b].append(a)
        succs[a].append(b)
    duration = {t.key: 0.0 if t.milestone else max(t.estimate_days, 0.0) for t in tasks}

    es: dict[str, float] = {}
    ef: dict[str, float] = {}
    for key in order:
        es[key] = max((ef[p] for p in preds[key]), default=0.0)
        ef[key] = es[key] + duration[key]
    end = max(ef.values(), default=0.0)
    milestone = launch_milestone(tasks)
    anchor = milestone.key if milestone else None

    lf: dict[str, float] = {}
    ls: dict[str, float] = {}
    for key in reversed(order):
        lf[key] = ef[key] if key == anchor else min((ls[s] for s in succs[key]), default=end)
        ls[key] = lf[key] - duration[key]
    slack = {k: round(ls[k] - es[k], 6) for k in keys}

    finish = anchor if anchor is not None else min(keys, key=lambda k: (-ef[k], order.index(k)), default=None)
    path = _trace_back(finish, preds, es, ef, slack) if finish is not None else []
    return DependencyAnalysis(
        edges=kept,
        broken_edges=broken,
        critical_path=path,
        critical_path_days=round(ef[finish], 6) if finish is not None else 0.0,
        slack=slack,
        earliest_start=es,
        earliest_finish=ef,
        latest_start=ls,
        latest_finish=lf,
        launch_key=anchor,
    )


def _trace_back(
    finish: str,
    preds: dict[str, list[str]],
    es: dict[str, float],
    ef: dict[str, float],
    slack: dict[str, float],
) -> list[str]:
    path = [finish]
    current = finish
    while True:
        tight = [p for p in preds[current] if abs(ef[p] - es[current]) < _EPS]
        if not tight:
            break
        current = min(tight, key=lambda p: (slack[p], p))
        path.append(current)
    path.reverse()
    return path


def critical_path_length(durations: dict[str, float], edges: list[tuple[str, str]]) -> float:
    """Length of the longest path through a precedence graph (durations per node)."""
    keys = list(durations)
    known = set(keys)
    pairs = [(a, b) for a, b in edges if a in known and b in known]
    preds: dict[str, list[str]] = {k: [] for k in keys}
    for a, b in pairs:
        preds[b].append(a)
    finish: dict[str, float] = {}
    for key in topological_order(keys, pairs):
        finish[key] = max((finish.get(p, 0.0) for p in preds[key]), default=0.0) + durations[key]
    return max(finish.values(), default=0.0)
