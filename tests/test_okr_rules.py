"""Progress, forecast and status rules; the LLM query path against a fake model; the OKR policy."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from typing import Any

import pytest

from agents.okr_progress import OkrRules, Point, RulesError, Window, kr_facts, kr_verdict, objective_rollup
from agents.okr_sources import MetricError, sign_metric, verify_metric_signature
from agents.policy.okrs import can_check_in, can_decide_approval, can_see_objective
from agents.query import parse_question
from agents.query_types import QueryError, Subject, Vocabulary, query_from_json
from storage.okr_enums import OkrStatus

Q3 = Window(date(2026, 7, 1), date(2026, 9, 30))
TODAY = date(2026, 8, 19)
VOCAB = Vocabulary(people={"U1": "Ann Lee"}, departments=("Engineering",), teams=("Platform",),
                   periods=("2026-Q3",))


def verdict(start: float, target: float, points: list[tuple[str, float]], today: date = TODAY,
            rules: OkrRules | None = None) -> Any:
    facts = kr_facts(start, target, [Point(date.fromisoformat(d), v) for d, v in points], Q3, today)
    return kr_verdict(facts, Q3, today, rules or OkrRules())


def test_decreasing_metric_progress_and_done() -> None:
    assert verdict(800, 400, [("2026-08-18", 560)]).progress == pytest.approx(0.6)
    assert verdict(10, 0, [("2026-08-18", -3)]).status is OkrStatus.DONE


def test_statuses_follow_the_rule() -> None:
    assert verdict(0, 100, [("2026-07-10", 5), ("2026-08-10", 12)]).status is OkrStatus.OFF_TRACK
    assert verdict(0, 100, [("2026-08-15", 60)]).status is OkrStatus.ON_TRACK
    stale = verdict(0, 100, [("2026-07-20", 50)])
    assert stale.status is OkrStatus.AT_RISK and "30 days ago" in stale.reason()
    assert verdict(0, 100, []).status is OkrStatus.AT_RISK
    assert verdict(0, 100, [], today=date(2026, 7, 5)).status is OkrStatus.ON_TRACK


def test_checkins_after_today_are_ignored() -> None:
    early = verdict(0, 100, [("2026-07-10", 20), ("2026-09-01", 100)], today=date(2026, 7, 15))
    assert early.progress == pytest.approx(0.2)


def test_rules_are_configurable_and_checked() -> None:
    lenient = OkrRules.from_json({"off_track_below": 0.1, "at_risk_below": 0.2})
    assert verdict(0, 100, [("2026-07-10", 5), ("2026-08-10", 12)], rules=lenient).status is OkrStatus.ON_TRACK
    with pytest.raises(RulesError):
        OkrRules.from_json({"off_track_below": 0.9, "at_risk_below": 0.5})
    with pytest.raises(RulesError):
        OkrRules.from_json({"bogus": 1})


def test_objective_rollup_weights_and_worst_status() -> None:
    rollup = objective_rollup([(3, 1.0, OkrStatus.DONE), (1, 0.0, OkrStatus.AT_RISK)], [], Q3, TODAY, OkrRules())
    assert rollup.progress == pytest.approx(0.75) and rollup.status is OkrStatus.AT_RISK


class FakeModel:
    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.calls: list[dict[str, Any]] = []

    async def complete_json(self, system: str, user: str, schema: dict[str, Any],
                            check: Any = None) -> dict[str, Any]:
        self.calls.append({"system": system, "user": user, "schema": schema})
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


async def test_llm_query_is_validated_into_the_same_typed_query() -> None:
    model = FakeModel({"intent": "list", "subject": "key_results",
                       "filters": {"status": ["at_risk", "off_track"], "department": "engineering"}})
    llm, by = await parse_question("at risk key results in engineering", VOCAB, model)
    rules, _ = await parse_question("at risk key results in engineering", VOCAB, None)
    assert by == "llm" and llm == rules and llm.filters.department == "Engineering"
    assert model.calls and "Engineering" in model.calls[0]["user"]


@pytest.mark.parametrize("bad", [
    {"intent": "drop table", "subject": "objectives", "filters": {}},
    {"intent": "list", "subject": "objectives", "filters": {"department": "'; DELETE FROM okr_objectives; --"}},
    {"intent": "list", "subject": "objectives", "filters": {"owner": "U999"}},
    {"intent": "list", "subject": "objectives", "filters": {"sql": "1=1"}},
    RuntimeError("provider down"),
])
async def test_a_bad_llm_answer_falls_back_to_the_rules(bad: Any) -> None:
    query, by = await parse_question("which objectives are off track?", VOCAB, FakeModel(bad))
    assert by == "rules" and query.subject is Subject.OBJECTIVES and [str(s) for s in query.filters.statuses] == [
        "off_track"]


def test_query_validation_rejects_unknown_names() -> None:
    with pytest.raises(QueryError):
        query_from_json({"intent": "list", "subject": "objectives", "filters": {"team": "Nope"}}, VOCAB)


def test_policy() -> None:
    private = SimpleNamespace(owner_id="U1", visibility="private")
    assert can_see_objective("U1", "member", private) and can_see_objective("U9", "admin", private)
    assert not can_see_objective("U2", "pm", private)
    assert can_decide_approval("U1", "member", private) and not can_decide_approval("U2", "pm", private)
    assert can_decide_approval("U2", "admin", None) and not can_decide_approval("U2", "pm", None)
    kr = SimpleNamespace(owner_id="U3")
    assert can_check_in("U3", "member", kr, private) and can_check_in("U1", "member", kr, private)
    assert not can_check_in("U4", "pm", kr, private)


def test_metric_signature() -> None:
    body, ts = b'{"metric":"m","value":1,"timestamp":1}', "1000"
    verify_metric_signature("s", ts, body, sign_metric("s", ts, body), now=1000)
    with pytest.raises(MetricError):
        verify_metric_signature("s", ts, body + b" ", sign_metric("s", ts, body), now=1000)
    with pytest.raises(MetricError):
        verify_metric_signature("s", ts, body, sign_metric("s", ts, body), now=2000)
