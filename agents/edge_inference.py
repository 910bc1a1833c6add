"""Inferring edges the templates cannot know about: one module's work feeding another module's.

Four kinds, strongest first: a shared artefact (one task produces what another needs), a cross-module
gate from templates/gates.yaml (QA sign-off before store submission), two titles about the same thing
("Write the blog post" feeds "Review the blog post"), and loose ends tied to the launch milestone.
An inferred edge under BLOCKS_THRESHOLD is kept as "related", not "blocks".
"""

from __future__ import annotations

import re

import networkx as nx

from agents.plan import Edge, EdgeKind, Phase, PlannedTask
from agents.scheduler import launch_milestone
from agents.template_library import load_gates

# An inferred edge below this confidence is only "related": a guess should not hold up work.
BLOCKS_THRESHOLD = 0.7
_PHASE_RANK = {Phase.PRE: 0, Phase.LAUNCH: 1, Phase.POST: 2}


def make_inferred_edge(from_key: str, to_key: str, source: str, confidence: float) -> Edge:
    """An inferred edge; under BLOCKS_THRESHOLD it only relates the two tasks."""
    kind = EdgeKind.BLOCKS if confidence >= BLOCKS_THRESHOLD else EdgeKind.RELATED
    return Edge(from_key, to_key, kind, source, round(confidence, 3))


class _Reach:
    """Reachability over blocks edges, updated as edges are added, to skip redundant or cyclic guesses."""

    def __init__(self, keys: list[str], edges: list[Edge]) -> None:
        self.graph = nx.DiGraph()
        self.graph.add_nodes_from(keys)
        self.graph.add_edges_from((e.from_key, e.to_key) for e in edges if e.kind == EdgeKind.BLOCKS)
        self._cache: dict[str, set[str]] = {}

    def reaches(self, a: str, b: str) -> bool:
        if a not in self._cache:
            self._cache[a] = nx.descendants(self.graph, a)
        return b in self._cache[a]

    def add(self, a: str, b: str) -> None:
        self.graph.add_edge(a, b)
        if not self._cache:
            return
        # Whatever reached `a` now also reaches `b` and everything after it.
        gained = {b} | nx.descendants(self.graph, b)
        for node, reached in self._cache.items():
            if node == a or a in reached:
                reached |= gained


def infer_edges(tasks: list[PlannedTask], edges: list[Edge]) -> list[Edge]:
    """The given edges plus inferred ones: shared artefacts, cross-module gates, same-object text, spine."""
    by_key = {t.key: t for t in tasks}
    result: list[Edge] = []
    pairs: set[tuple[str, str]] = set()
    for edge in edges:
        if edge.from_key not in by_key or edge.to_key not in by_key or (edge.from_key, edge.to_key) in pairs:
            continue
        if edge.kind == EdgeKind.BLOCKS and edge.source != "template" and edge.confidence < BLOCKS_THRESHOLD:
            edge = Edge(edge.from_key, edge.to_key, EdgeKind.RELATED, edge.source, edge.confidence)
        pairs.add((edge.from_key, edge.to_key))
        result.append(edge)

    reach = _Reach(list(by_key), result)

    def offer(a: PlannedTask, b: PlannedTask, source: str, confidence: float) -> None:
        if a.key == b.key or (a.key, b.key) in pairs or (b.key, a.key) in pairs:
            return
        if _PHASE_RANK[a.phase] > _PHASE_RANK[b.phase]:
            return
        edge = make_inferred_edge(a.key, b.key, source, confidence)
        if edge.kind == EdgeKind.BLOCKS:
            if reach.reaches(a.key, b.key) or reach.reaches(b.key, a.key):
                return
            reach.add(a.key, b.key)
        pairs.add((a.key, b.key))
        result.append(edge)

    for producer, consumer, artefact in _artefact_pairs(tasks):
        offer(producer, consumer, f"artefact:{artefact}", 0.9)
    for before, after, rule, confidence in _gate_pairs(tasks):
        offer(before, after, f"gate:{rule}", confidence)
    for producer, consumer, confidence in _same_object_pairs(tasks):
        offer(producer, consumer, "text:same_object", confidence)
    for a, b in _spine_pairs(tasks, result):
        offer(by_key[a], by_key[b], "launch_spine", 0.95)
    return result


def _artefact_pairs(tasks: list[PlannedTask]) -> list[tuple[PlannedTask, PlannedTask, str]]:
    producers: dict[str, list[PlannedTask]] = {}
    for task in tasks:
        for artefact in task.produces:
            producers.setdefault(artefact, []).append(task)
    found = []
    for consumer in tasks:
        for artefact in consumer.needs:
            for producer in producers.get(artefact, []):
                found.append((producer, consumer, artefact))
    return found


def _categories_of(title: str, categories: dict) -> set[str]:
    lowered = title.lower()
    return {name for name, patterns in categories.items() if any(p.search(lowered) for p in patterns)}


def _gate_pairs(tasks: list[PlannedTask]) -> list[tuple[PlannedTask, PlannedTask, str, float]]:
    gates = load_gates()
    members: dict[str, list[PlannedTask]] = {}
    for task in tasks:
        for category in _categories_of(task.title, gates.categories):
            members.setdefault(category, []).append(task)
    found = []
    for rule in gates.rules:
        for before in members.get(rule.before, []):
            for after in members.get(rule.after, []):
                if before.module and before.module == after.module:
                    continue  # inside a module the template already says the order
                found.append((before, after, f"{rule.before}->{rule.after}", rule.confidence))
    return found


_PRODUCE_VERBS = {
    "write",
    "draft",
    "create",
    "build",
    "design",
    "record",
    "prepare",
    "make",
    "define",
    "finalize",
    "update",
    "plan",
}
_CONSUME_VERBS = {
    "review",
    "approve",
    "publish",
    "translate",
    "localize",
    "send",
    "test",
    "present",
    "share",
    "upload",
    "check",
    "verify",
    "proofread",
}
_STOPWORDS = {
    "the",
    "a",
    "an",
    "for",
    "to",
    "of",
    "on",
    "in",
    "into",
    "with",
    "and",
    "or",
    "new",
    "launch",
    "our",
    "all",
    "every",
    "each",
    "it",
    "is",
    "be",
    "by",
    "from",
    "at",
    "this",
    "that",
}
_WORD = re.compile(r"[a-z0-9][a-z0-9'-]*")


def _verb_and_object(title: str) -> tuple[str, frozenset[str]]:
    words = _WORD.findall(title.lower())
    if not words:
        return "", frozenset()
    return words[0], frozenset(w for w in words[1:] if w not in _STOPWORDS)


def _same_object_pairs(tasks: list[PlannedTask]) -> list[tuple[PlannedTask, PlannedTask, float]]:
    """ "Write the X" feeds "Review the X" in another module; confidence grows with the shared words."""
    producers, consumers = [], []
    for task in tasks:
        verb, words = _verb_and_object(task.title)
        if len(words) < 2:
            continue
        if verb in _PRODUCE_VERBS:
            producers.append((task, words))
        elif verb in _CONSUME_VERBS:
            consumers.append((task, words))
    index: dict[str, list[int]] = {}
    for i, (_, words) in enumerate(consumers):
        for word in words:
            index.setdefault(word, []).append(i)
    found = []
    for producer, p_words in producers:
        candidates = sorted({i for w in p_words for i in index.get(w, [])})
        for i in candidates:
            consumer, c_words = consumers[i]
            if producer.module and producer.module == consumer.module:
                continue
            overlap = len(p_words & c_words) / len(p_words | c_words)
            if overlap >= 0.4:
                found.append((producer, consumer, 0.3 + 0.6 * overlap))
    return found


def _spine_pairs(tasks: list[PlannedTask], edges: list[Edge]) -> list[tuple[str, str]]:
    """Loose ends joined to the launch milestone: pre-launch sinks before it, launch work after it."""
    milestone = launch_milestone(tasks)
    if milestone is None:
        return []
    has_succ = {e.from_key for e in edges if e.kind == EdgeKind.BLOCKS}
    has_pred = {e.to_key for e in edges if e.kind == EdgeKind.BLOCKS}
    pairs = []
    for task in tasks:
        if task.key == milestone.key:
            continue
        if task.phase == Phase.PRE and task.key not in has_succ:
            pairs.append((task.key, milestone.key))
        elif task.phase != Phase.PRE and task.key not in has_pred:
            pairs.append((milestone.key, task.key))
    return pairs
