"""Questions about OKRs: a question -> a typed query (LLM when configured, else rules) -> an answer.

The query runs over the asker's workspace and only what the asker may see. Nothing from the question or a
model reaches SQL as SQL: the validated query's names, ids and numbers are bound parameters
(storage/okr_query.py), and what the answer shows is re-checked on the loaded rows by the Python rule.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any, Protocol

from agents import guardrail
from agents.guardrail import GuardrailError, PiiMapping
from agents.okr_board import Board, KrView, ObjectiveView, cached_facts, group_points, needs_points, windows_of
from agents.okr_checkin import rules_for
from agents.okr_progress import OkrRules, Window, kr_verdict, objective_rollup
from agents.policy.okrs import can_see_objective, is_admin
from agents.query_llm import mask_people
from agents.query_rules import parse_rules
from agents.query_types import (
    QUARTER,
    QUERY_SCHEMA,
    Intent,
    OkrQuery,
    QueryError,
    QueryFilters,
    Subject,
    Vocabulary,
    query_from_json,
)
from storage.okr_enums import STATUS_SEVERITY
from storage.okr_query import OkrFilter, OkrQueryRepository, StatusRule
from storage.okr_snapshot import period_rows
from storage.okrs import OkrRepository, org_names

log = logging.getLogger(__name__)
# Items an answer lists in full (blocks/okr_messages.py shows as many); the rest are counted and keyed.
ANSWER_LINES = 40
SEVERITY_STATUS = {severity: status for status, severity in STATUS_SEVERITY.items()}

SYSTEM_PROMPT = (
    "You turn a question about OKRs into a JSON query. Use only the department, team and period names listed. "
    "'at risk' means status at_risk and off_track; 'off track' or 'behind' means off_track; 'on track' means "
    "on_track; 'done' or 'achieved' means done. 'my' means owner 'me'; a person appears as <@ID>: use that ID as "
    "owner. Periods: this_quarter, last_quarter, next_quarter, Qn or a listed period name; leave period null when "
    "the question names none. Subject key_results when the question is about key results (KRs), else objectives. "
    "Intent count for 'how many', owner for 'who owns', progress for 'how is … doing', else list. text: a word or "
    "key the question asks to match in titles, else null. Every filter the question does not name is null (or [])."
)


class QueryModel(Protocol):
    """What the LLM path needs from a model client (agents/query_llm.py provides the real one). `check` raises
    QueryError on an answer that does not validate, so the client can record it as rejected and ask the next."""

    async def complete_json(self, system: str, user: str, schema: dict[str, Any],
                            check: Callable[[dict[str, Any]], object] | None = None) -> dict[str, Any]: ...


@dataclass(frozen=True)
class QueryAnswer:
    """The matching items' keys (sorted), and the first ANSWER_LINES of them in full, with their verdicts."""

    query: OkrQuery
    period: str | None
    objectives: list[ObjectiveView]
    key_results: list[KrView]
    people: dict[str, str]
    parsed_by: str
    keys: tuple[str, ...] = ()

    @property
    def count(self) -> int:
        return len(self.keys)

    def to_json(self) -> dict[str, Any]:
        by_objective = self.query.subject is Subject.OBJECTIVES
        return {
            "intent": str(self.query.intent),
            "filters": {"subject": str(self.query.subject), **self.query.filters.to_json()},
            "objectives": list(self.keys) if by_objective else [],
            "key_results": [] if by_objective else list(self.keys),
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
        try:
            # Names stay here: the model sees mentions (<@U…>) and may only answer with those ids; any other
            # personal data or secret in the question reaches it as a placeholder (a guardrail failure: rules only).
            mapping = PiiMapping()
            safe = await asyncio.to_thread(guardrail.redact, mask_people(question, vocabulary.people),
                                           mapping=mapping)
            user = (f"Question: {safe.text}\n"
                    f"Departments: {list(vocabulary.departments)}\nTeams: {list(vocabulary.teams)}\n"
                    f"Periods: {list(vocabulary.periods)}")
            answer = await model.complete_json(SYSTEM_PROMPT, user, QUERY_SCHEMA,
                                               check=lambda data: query_from_json(data, vocabulary))
            return _asked_text(query_from_json(answer, vocabulary), mapping), "llm"
        except GuardrailError as exc:
            log.warning("OKR question not sent to a model (%s); using the rule parser", exc)
        except QueryError as exc:
            log.warning("LLM query did not validate (%s); using the rule parser", exc)
        except Exception:
            log.warning("LLM query failed; using the rule parser", exc_info=True)
    return parse_rules(question, vocabulary), "rules"


def _asked_text(query: OkrQuery, mapping: PiiMapping) -> OkrQuery:
    """A text filter the model wrote with placeholders searches for what the asker typed (their own words)."""
    text = query.filters.text
    if not text or not len(mapping):
        return query
    return replace(query, filters=replace(query.filters, text=guardrail.restore(text, mapping, allowed=True)))


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
    """Answer a typed query: its filters narrow in SQL, and only what the answer shows is loaded in full."""
    periods = await repo.periods()
    period = resolve_period(query.filters.period, periods, today)
    if period is None:
        return QueryAnswer(query, None, [], [], vocabulary.people, parsed_by)
    role = await repo.role_of(asker)
    rules = await rules_for(repo)
    reads = OkrQueryRepository(repo.session, repo.scope)
    objectives: list[ObjectiveView] = []
    key_results: list[KrView] = []
    found: list[str] | None = None  # every matching key, when only some items are loaded in full
    if await reads.has_history_after(period.id, today):
        # Asked as of a day before some check-ins: the cached facts are not as of that day; rebuild from history.
        board = await load_board(repo, [period], today)
        objectives, key_results = _select_on_board(board, query, asker, role)
    else:
        window = Window(period.start, period.end)
        spec = _filter_of(query, period.id, asker, role)
        rule = status_rule(rules, window, today)
        if query.subject is Subject.KEY_RESULTS:
            # The database applied the status rule; the key results shown get their full verdict here.
            rows = await reads.key_results(spec, rule)
            if _needs_python_match(query.filters):
                rows = [r for r in rows if _org_and_text_ok(r, query.filters)]
            rows.sort(key=lambda r: r.key)
            shown = await reads.key_results_by_id([r.id for r in rows[:ANSWER_LINES]])
            key_results = [KrView(r, kr_verdict(cached_facts(r), window, today, rules)) for r in shown]
            found = [r.key for r in rows]
        else:
            objectives, found = await _objectives(repo, reads, spec, rule, period, today, rules, query.filters)
    objectives.sort(key=lambda v: v.row.key)
    key_results.sort(key=lambda k: k.row.key)
    if found is None:  # the whole tree was evaluated: every match is in full
        found = [item.row.key for item in (objectives if query.subject is Subject.OBJECTIVES else key_results)]
    keys = tuple(sorted(found))
    return QueryAnswer(query, period.name, objectives[:ANSWER_LINES], key_results[:ANSWER_LINES], vocabulary.people,
                       parsed_by, keys)


def status_rule(rules: OkrRules, window: Window, today: date) -> StatusRule:
    """The numbers of the status rule as of today, for the database to apply (storage/okr_query.py)."""
    return StatusRule(off_track_below=rules.off_track_below, at_risk_below=rules.at_risk_below,
                      stale_before=today - timedelta(days=rules.stale_after_days),
                      no_checkin_at_risk=window.elapsed(today) > rules.no_checkin_elapsed)


def _filter_of(query: OkrQuery, period_id: int, asker: str, role: str) -> OkrFilter:
    filters = query.filters
    return OkrFilter(period_id=period_id, viewer=asker, viewer_is_admin=is_admin(role),
                     level=str(filters.level) if filters.level else None, department=filters.department,
                     team=filters.team, owner=asker if filters.owner == "me" else filters.owner, text=filters.text,
                     severities=tuple(s.severity for s in filters.statuses))


def _in_org(row: Any, filters: QueryFilters) -> bool:
    if filters.level and row.level != filters.level:
        return False
    if filters.department and (row.department or "").lower() != filters.department.lower():
        return False
    return not (filters.team and (row.team or "").lower() != filters.team.lower())


def _text_ok(row: Any, filters: QueryFilters) -> bool:
    text = (filters.text or "").lower()
    return not text or text in row.title.lower() or text == row.key.lower()


def _org_and_text_ok(row: Any, filters: QueryFilters) -> bool:
    """What the database may only approximate (the case of non-ASCII names and text), checked on the row."""
    if filters.department and (row.department or "").lower() != filters.department.lower():
        return False
    if filters.team and (row.team or "").lower() != filters.team.lower():
        return False
    return _text_ok(row, filters)


async def _objectives(repo: OkrRepository, reads: OkrQueryRepository, spec: OkrFilter, rule: StatusRule,
                      period: Any, today: date, rules: OkrRules, filters: QueryFilters
                      ) -> tuple[list[ObjectiveView], list[str]]:
    """(the objectives shown, in full; every matching key): the database filters, measures and sorts them all."""
    rows = await reads.objective_summaries(spec, rule)
    if _needs_python_match(filters):
        rows = [r for r in rows if _in_org(r, filters) and _text_ok(r, filters)]
    unmeasured = [r for r in rows if not r.kr_count]
    from_board: dict[int, ObjectiveView] = {}
    if unmeasured:  # their children decide: the period's tree, once, for these few
        board = await load_board(repo, [period], today)
        from_board = {r.id: board.objectives[r.id] for r in unmeasured if r.id in board.objectives
                      and (not filters.statuses or board.objectives[r.id].status in filters.statuses)}
    # Measured rows passed the status filter in the database (HAVING on the worst key result's severity).
    rows = sorted((r for r in rows if r.kr_count or r.id in from_board), key=lambda r: r.key)
    shown = [from_board.get(r.id) or ObjectiveView(r) for r in rows[:ANSWER_LINES]]
    await _detail(reads, [v for v in shown if v.row.id not in from_board], Window(period.start, period.end),
                  today, rules)
    return shown, [r.key for r in rows]


def _needs_python_match(filters: QueryFilters) -> bool:
    """The database matched names and text exactly unless one is non-ASCII (SQLite's lower() is ASCII-only)."""
    return any(value and not value.isascii() for value in (filters.department, filters.team, filters.text))


async def _detail(reads: OkrQueryRepository, views: list[ObjectiveView], window: Window, today: date,
                  rules: OkrRules) -> None:
    """Full rows, key results, verdicts and the rollup of the objectives an answer shows (okr_progress's rule)."""
    by_id = {v.row.id: v for v in views}
    for row in await reads.objectives(list(by_id)):
        by_id[row.id].row = row
    for row in await reads.key_results_of(list(by_id)):
        by_id[row.objective_id].key_results.append(KrView(row, kr_verdict(cached_facts(row), window, today, rules)))
    for view in views:
        rollup = objective_rollup([(k.row.weight, k.verdict.progress, k.status) for k in view.key_results], [],
                                  window, today, rules)
        view.progress, view.status = rollup.progress, rollup.status


def _select_on_board(board: Board, query: OkrQuery, asker: str, role: str) -> tuple[list[ObjectiveView],
                                                                                       list[KrView]]:
    """The query over a whole evaluated tree (used when asking as of a day before some check-ins)."""
    filters = query.filters
    owner = asker if filters.owner == "me" else filters.owner
    visible = [v for v in board.objectives.values()
               if can_see_objective(asker, role, v.row) and _in_org(v.row, filters)]
    if query.subject is Subject.OBJECTIVES:
        return [v for v in visible if (not filters.statuses or v.status in filters.statuses)
                and (owner is None or v.row.owner_id == owner) and _text_ok(v.row, filters)], []
    return [], [k for v in visible for k in v.key_results
                if (not filters.statuses or k.status in filters.statuses)
                and (owner is None or k.row.owner_id == owner) and _text_ok(k.row, filters)]


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
    lines = [head] + answer_lines(answer, ANSWER_LINES)
    if answer.count > ANSWER_LINES:
        lines.append(f"… and {answer.count - ANSWER_LINES} more")
    return "\n".join(lines)


def answer_lines(answer: QueryAnswer, limit: int = ANSWER_LINES) -> list[str]:
    """The first `limit` items, each with its status and the rule and figures behind it."""
    people = answer.people
    out = []
    for view in answer.objectives[:limit]:
        row = view.row
        owner = people.get(row.owner_id, row.owner_id)
        out.append(f"{row.key} {row.title} — {view.status.label}, {round(100 * view.progress)}%"
                   f" ({view.reason()}); owner {owner}")
    for kr in answer.key_results[:limit]:
        row = kr.row
        owner = people.get(row.owner_id, row.owner_id)
        out.append(f"{row.key} {row.title} — {kr.status.label} ({kr.verdict.reason()}); owner {owner}")
    return out
