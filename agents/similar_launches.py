"""Retrieval over our own database: the past launches of a workspace most like a new brief.

Similarity is the TF-IDF cosine of name + brief, plus a bonus for the same launch type. It runs on the
original texts locally; what goes to a model is rendered afterwards and redacted by the guardrail.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

from agents import guardrail
from agents.guardrail import GuardrailError, PiiMapping
from agents.plan import Brief
from storage.llm_usage import PastLaunch

SAME_TYPE_BONUS = 0.15
EXAMPLES = 3
BRIEF_EXCERPT = 800
TASK_LINES = 40
_WORD = re.compile(r"[a-z][a-z0-9]{2,}")
_STOP = frozenset(
    "the and for with this that from are will our all its into out has have not but can new launch "
    "release we you they their them was were been be on in of to a an".split()
)


def _terms(text: str) -> Counter[str]:
    return Counter(w for w in _WORD.findall(text.lower()) if w not in _STOP)


def most_similar(brief: Brief, past: Sequence[PastLaunch], k: int = EXAMPLES) -> list[PastLaunch]:
    """The k past launches nearest the brief, best first (ties: the more recent, i.e. earlier in `past`)."""
    if not past:
        return []
    docs = [_terms(f"{p.name} {p.brief}") for p in past]
    query = _terms(f"{brief.name} {brief.text}")
    frequency: Counter[str] = Counter()
    for doc in [*docs, query]:
        frequency.update(doc.keys())
    total = len(docs) + 1

    def vector(doc: Counter[str]) -> dict[str, float]:
        return {t: (1 + math.log(n)) * math.log((1 + total) / (1 + frequency[t])) for t, n in doc.items()}

    q = vector(query)
    q_norm = math.sqrt(sum(v * v for v in q.values())) or 1.0
    scored: list[tuple[float, int]] = []
    for index, doc in enumerate(docs):
        d = vector(doc)
        d_norm = math.sqrt(sum(v * v for v in d.values())) or 1.0
        cosine = sum(q[t] * d.get(t, 0.0) for t in q) / (q_norm * d_norm)
        bonus = SAME_TYPE_BONUS if past[index].launch_type == brief.launch_type else 0.0
        scored.append((cosine + bonus, index))
    scored.sort(key=lambda s: (-s[0], s[1]))
    return [past[i] for _, i in scored[:k]]


def render_example(launch: PastLaunch) -> str:
    excerpt = launch.brief.strip()
    if len(excerpt) > BRIEF_EXCERPT:
        excerpt = excerpt[:BRIEF_EXCERPT].rsplit(" ", 1)[0] + " …"
    lines = [f"## {launch.name} ({launch.launch_type})", "Brief: " + excerpt, "Tasks:"]
    lines += [f"- {title} [{role}, {days:g}d]" for title, role, days in launch.tasks[:TASK_LINES]]
    return "\n".join(lines)


def redacted_examples(
    brief: Brief, past: Sequence[PastLaunch], mapping: PiiMapping, k: int = EXAMPLES
) -> list[str]:
    """The k most similar past launches as prompt text, with personal data replaced by placeholders.

    Each example is redacted with its own team and this launch's team as the roster; one that cannot be
    checked is left out rather than sent.
    """
    roster_now = [m.name for m in brief.team]
    examples: list[str] = []
    for launch in most_similar(brief, past, k):
        try:
            redaction = guardrail.redact(
                render_example(launch), roster=[*launch.member_names, *roster_now], mapping=mapping
            )
        except GuardrailError:
            continue
        examples.append(redaction.text)
    return examples
