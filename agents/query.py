"""Questions about OKRs: a question -> a typed query (LLM when configured, else rules) -> an answer.

The query runs over the asker's workspace and only what the asker may see. Nothing from the question
or a model reaches SQL: the database is read by period id, and every filter is applied to loaded rows.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from agents.okr_board import Board, KrView, ObjectiveView, group_points, needs_points, windows_of
from agents.okr_checkin import rules_for
from agents.policy.okrs import can_see_objective
from agents.query_rules import parse_rules
from agents.query_types import (
    QUARTER,
    QUERY_SCHEMA,
    Intent,
    OkrQuery,
    QueryError,
    Subject,
    Vocabulary,
    query_from_json,
)
from storage.okr_snapshot import period_rows
from storage.okrs import OkrRepository, org_names

log = logging.getLogger(__name__)
ANSWER_LINES = 40

SYSTEM_PROMPT = (
    "You turn a question about OKRs into a JSON query. Use only the names listed. "
    "'at risk' means status at_risk and off_track; 'off track' or 'behind' means off_track; 'on track' means "
    "on_track; 'done' or 'achieved' means done. 'my' means owner 'me'. Periods: this_quarter, last_quarter, "
    "next_quarter, Qn or a listed period name; leave period null when the question names none."
)


class QueryModel(Protocol):
    """What the LLM path needs from a model client (integrations/llm provides real ones)."""

    async def complete_json(self, system: str, user: str, schema: dict[str, Any]) -> dict[str, Any]: ...


@dataclass(frozen=True)
class QueryAnswer:
    query: OkrQuery
    period: str | None
    objectives: list[ObjectiveView]
    key_results: list[KrView]
    people: dict[str, str]
    parsed_by: str

    @property
    def count(self) -> int:
        return len(self.key_results if self.query.subject is Subject.KEY_RESULTS else self.objectives)

    def to_json(self) -> dict[str, Any]:
        return {
            "intent": str(self.query.intent),
            "filters": {"subject": str(self.query.subject), **self.query.filters.to_json()},
            "objectives": sorted(v.row.key for v in self.objectives),
            "key_results": sorted(v.row.key for v in self.key_results),
            "count": self.count,
            "answer": answer_text(self),
        }


async def vocabulary_of(repo: OkrRepository) -> Vocabulary:
    departments, teams = await org_names(repo.session, repo.scope)
    periods = tuple(p.name for p in await repo.periods())
    return Vocabulary(people=await repo.people(), departments=departments, teams=teams, periods=periods)


async def parse_question(question: str, vocabulary: Vocabulary,
                         model: QueryModel | None = None) -> tuple[OkrQuery, str]:
    """The typed query and who produced it ("llm" or "rules"); a failing or invalid LLM answer falls back."""
    if model is not None:
        user = (f"Question: {question}\nPeople: {vocabulary.people}\nDepartments: {list(vocabulary.departments)}\n"
                f"Teams: {list(vocabulary.teams)}\nPeriods: {list(vocabulary.periods)}")
        try:
            return query_from_json(await model.complete_json(SYSTEM_PROMPT, user, QUERY_SCHEMA), vocabulary), "llm"
        except QueryError as exc:
            log.warning("LLM query did not validate (%s); using the rule parser", exc)
        except Exception:
            log.warning("LLM query failed; using the rule parser", exc_info=True)
    return parse_rules(question, vocabulary), "rules"


def resolve_period(name: str | None, periods: list[Any], today: date) -> Any | None:
    """A period for a query's period filter; no filter means the period containing today."""
    current = next((p for p in periods if p.start <= today <= p.end), None)
    if name in (None, "this_quarter"):
        return current
    if name == "last_quarter":
        before = current.start if current else today
        return max((p for p in periods if p.end < before), key=lambda p: p.end, default=None)
    if name == "next_quarter":
        after = current.end if current else today
        return min((p for p in periods if p.start > after), key=lambda p: p.start, default=None)
    assert name is not None
    exact = next((p for p in periods if p.name.lower() == name.lower()), None)
    if exact is not None or not QUARTER.match(name):
        return exact
    suffix = name.upper()
    named = [p for p in periods if p.name.upper().endswith(suffix)]
    started = [p for p in named if p.start <= today]
    return max(started, key=lambda p: p.start) if started else min(named, key=lambda p: p.start, default=None)


async def ask(repo: OkrRepository, question: str, *, asker: str, today: date,
              model: QueryModel | None = None) -> QueryAnswer:
    vocabulary = await vocabulary_of(repo)
    query, parsed_by = await parse_question(question, vocabulary, model)
    return await run_query(repo, query, asker=asker, today=today, vocabulary=vocabulary, parsed_by=parsed_by)


async def run_query(repo: OkrRepository, query: OkrQuery, *, asker: str, today: date, vocabulary: Vocabulary,
                    parsed_by: str = "rules") -> QueryAnswer:
    periods = await repo.periods()
    period = resolve_period(query.filters.period, periods, today)
    if period is None:
        return QueryAnswer(query, None, [], [], vocabulary.people, parsed_by)
    board = await load_board(repo, [period], today)
    role = await repo.role_of(asker)
    filters = query.filters
    owner = asker if filters.owner == "me" else filters.owner
    text = (filters.text or "").lower()

    def in_org(objective: Any) -> bool:
        if filters.level and objective.level != filters.level:
            return False
        if filters.department and (objective.department or "").lower() != filters.department.lower():
            return False
        return not (filters.team and (objective.team or "").lower() != filters.team.lower())

    visible = [v for v in board.objectives.values() if can_see_objective(asker, role, v.row) and in_org(v.row)]
    objectives: list[ObjectiveView] = []
    key_results: list[KrView] = []
    if query.subject is Subject.OBJECTIVES:
        objectives = [
            v for v in visible
            if (not filters.statuses or v.status in filters.statuses)
            and (owner is None or v.row.owner_id == owner)
            and (not text or text in v.row.title.lower() or text == v.row.key.lower())
        ]
    else:
        key_results = [
            k for v in visible for k in v.key_results
            if (not filters.statuses or k.status in filters.statuses)
            and (owner is None or k.row.owner_id == owner)
            and (not text or text in k.row.title.lower() or text == k.row.key.lower())
        ]
    objectives.sort(key=lambda v: v.row.key)
    key_results.sort(key=lambda k: k.row.key)
    return QueryAnswer(query, period.name, objectives, key_results, vocabulary.people, parsed_by)


async def load_board(repo: OkrRepository, periods: list[Any], today: date) -> Board:
    objectives, key_results = await period_rows(repo.session, repo.scope, [p.id for p in periods])
    stale = [k.id for k in key_results if needs_points(k, today)]
    points = group_points(
        (kr_id, day, value) for kr_id, rows in (await repo.checkin_points(stale)).items() for day, value in rows
    ) if stale else None
    return Board(objectives, key_results, windows_of(periods), today, await rules_for(repo), points)


def answer_text(answer: QueryAnswer) -> str:
    """Plain text for the CLI and message fallbacks; Slack formats the same facts in blocks/okr_answer.py."""
    query = answer.query
    noun = "key results" if query.subject is Subject.KEY_RESULTS else "objectives"
    status = " or ".join(s.label for s in query.filters.statuses)
    scope = f" in {answer.period}" if answer.period else ""
    if answer.period is None:
        return "I found no OKR period for that question."
    head = f"{answer.count} {noun}{' ' + status if status else ''}{scope}."
    if query.intent is Intent.COUNT:
        return head
    lines = [head] + [line for line in answer_lines(answer)[:ANSWER_LINES]]
    if answer.count > ANSWER_LINES:
        lines.append(f"… and {answer.count - ANSWER_LINES} more")
    return "\n".join(lines)


def answer_lines(answer: QueryAnswer) -> list[str]:
    people = answer.people
    out = []
    for view in answer.objectives:
        row = view.row
        owner = people.get(row.owner_id, row.owner_id)
        out.append(f"{row.key} {row.title} — {view.status.label}, {round(100 * view.progress)}%"
                   f" ({view.reason()}); owner {owner}")
    for kr in answer.key_results:
        row = kr.row
        owner = people.get(row.owner_id, row.owner_id)
        out.append(f"{row.key} {row.title} — {kr.status.label} ({kr.verdict.reason()}); owner {owner}")
    return out
