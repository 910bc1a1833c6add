"""`/okr ask` through an LLM: the planner's real anthropic and openai clients (bot/llm_setup.py) against the local
stub servers (tests/llm_stubs.py). A valid answer gives the rule parser's typed query; any other answer, or no
answer, falls back to the rule parser. Names never reach the model. Every call's tokens and cost are recorded for
the workspace (no launch), on SQLite and PostgreSQL, and a spent monthly budget leaves questions to the rules."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete

from agents.query import parse_question
from agents.query_llm import mask_people, metered_query_model, month_start, query_model
from agents.query_types import Vocabulary
from bot.llm_setup import build_plan_models
from bot.settings import Settings
from storage.db import Database
from storage.llm_usage import LlmUsage, LlmUsageRepository, UsageRecord
from storage.scope import Scope
from storage.workspaces import WorkspaceRepository
from tests.llm_stubs import LlmStubServer, anthropic_error, anthropic_message, openai_completion
from tests.support import migrated_database
from tests.test_llm_planner import fresh, stub

VOCAB = Vocabulary(people={"U100": "Maya Chen", "U101": "Omar Haddad"}, departments=("Engineering", "Sales"),
                   teams=("Search",), periods=("2026-Q3",))
QUESTION = "which key results of Omar Haddad are at risk in engineering this quarter?"
__all__ = ["fresh", "stub"]  # the stub server fixtures, shared with test_llm_planner

LLM_QUERY = {"intent": "list", "subject": "key_results",
             "filters": {"status": ["off_track", "at_risk"], "period": "this_quarter", "level": None,
                         "department": "engineering", "team": None, "owner": "U101", "text": None}}


def settings_for(stub: LlmStubServer, **env: str) -> Settings:
    return Settings.from_env({"ANTHROPIC_API_KEY": "sk-ant-test", "OPENAI_API_KEY": "sk-test",
                              "ANTHROPIC_BASE_URL": stub.anthropic_url, "OPENAI_BASE_URL": stub.openai_url,
                              "LLM_TIMEOUT_SECONDS": "5", **env})


def sent(stub: LlmStubServer) -> str:
    return json.dumps([r.body for r in stub.anthropic.requests + stub.openai.requests])


async def test_without_keys_only_the_rules_parse() -> None:
    assert query_model(build_plan_models(Settings.from_env({}))) is None


async def test_anthropic_gives_the_same_typed_query_as_the_rules(stub: LlmStubServer) -> None:
    stub.anthropic.queue(anthropic_message(json.dumps(LLM_QUERY)))
    model = query_model(build_plan_models(settings_for(stub)))
    llm, by = await parse_question(QUESTION, VOCAB, model)
    rules, _ = await parse_question(QUESTION, VOCAB, None)
    assert by == "llm" and llm == rules and llm.filters.owner == "U101" and llm.filters.department == "Engineering"
    body = stub.anthropic.requests[0].body
    assert body["output_config"]["format"]["schema"]["properties"]["filters"]["required"]
    assert "Omar" not in sent(stub) and "<@U101>" in sent(stub) and not stub.openai.requests


async def test_a_failing_anthropic_hands_over_to_openai(stub: LlmStubServer) -> None:
    stub.anthropic.queue(anthropic_error(400, "invalid_request_error"))
    stub.openai.queue(openai_completion(json.dumps(LLM_QUERY)))
    query, by = await parse_question(QUESTION, VOCAB, query_model(build_plan_models(settings_for(stub))))
    assert by == "llm" and query.filters.owner == "U101"
    assert stub.openai.requests[0].body["response_format"]["json_schema"]["strict"] is True


@pytest.mark.parametrize("answer", [
    "not json at all",
    json.dumps({**LLM_QUERY, "filters": {**LLM_QUERY["filters"], "department": "Legal"}}),  # not a department
    json.dumps({**LLM_QUERY, "filters": {**LLM_QUERY["filters"], "owner": "U999"}}),  # not a person
    json.dumps({**LLM_QUERY, "intent": "delete"}),
])
async def test_an_answer_that_does_not_validate_falls_back_to_the_rules(stub: LlmStubServer, answer: str) -> None:
    stub.anthropic.queue(anthropic_message(answer))
    stub.openai.queue(openai_completion(answer))
    query, by = await parse_question(QUESTION, VOCAB, query_model(build_plan_models(settings_for(stub))))
    assert by == "rules" and query == (await parse_question(QUESTION, VOCAB, None))[0]


async def test_a_zero_budget_turns_the_llm_path_off(stub: LlmStubServer) -> None:
    assert query_model(build_plan_models(settings_for(stub, LLM_BUDGET_USD="0"))) is None


async def test_other_personal_data_reaches_the_model_as_placeholders(stub: LlmStubServer) -> None:
    question = "which key results mention ops@example.com or the key AKIAIOSFODNN7EXAMPLE?"
    answer = {**LLM_QUERY, "filters": {**LLM_QUERY["filters"], "owner": None, "department": None,
                                       "status": [], "text": "<EMAIL_1>"}}
    stub.anthropic.queue(anthropic_message(json.dumps(answer)))
    query, by = await parse_question(question, VOCAB, query_model(build_plan_models(settings_for(stub))))
    assert "ops@example.com" not in sent(stub) and "AKIAIOSFODNN7EXAMPLE" not in sent(stub)
    assert "<EMAIL_1>" in sent(stub) and "<SECRET_1>" in sent(stub)
    assert by == "llm" and query.filters.text == "ops@example.com"  # searched as the asker typed it


async def test_a_guardrail_failure_sends_nothing_and_the_rules_answer(stub: LlmStubServer,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from agents import guardrail

    def broken(*_: object, **__: object) -> object:
        raise guardrail.GuardrailError("detection failed")

    monkeypatch.setattr(guardrail, "redact", broken)
    query, by = await parse_question(QUESTION, VOCAB, query_model(build_plan_models(settings_for(stub))))
    assert by == "rules" and not stub.anthropic.requests and not stub.openai.requests


def test_names_become_mentions() -> None:
    people = {"U1": "Maya Chen", "U2": "Maya Ortiz", "U3": "Omar Haddad"}
    assert mask_people("what does maya chen own, and Omar?", people) == "what does <@U1> own, and <@U3>?"
    assert "Maya" in mask_people("Maya's goals", people)  # two Mayas: left for the rules to refuse


# --- what questions spend: usage rows of the workspace (no launch), the monthly budget ---------------------------

WORKSPACE = "T-ASK"
NOW = datetime(2026, 8, 14, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
async def db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Database]:
    async with AsyncExitStack() as stack:
        url = await stack.enter_async_context(migrated_database(request.param, tmp_path_factory.mktemp("ask")))
        database = Database(url)
        stack.push_async_callback(database.dispose)
        async with database.session() as session:
            await WorkspaceRepository(session, Scope(WORKSPACE)).ensure("Ask")
        yield database


@pytest.fixture(autouse=True)
async def no_question_usage(request: pytest.FixtureRequest) -> None:
    if "db" in request.fixturenames:
        database: Database = request.getfixturevalue("db")
        async with database.session() as session:
            await session.execute(delete(LlmUsage))


async def question_rows(db: Database) -> list[LlmUsage]:
    async with db.reader() as session:
        return await LlmUsageRepository(session, Scope(WORKSPACE)).workspace_calls(datetime(2000, 1, 1, tzinfo=UTC))


async def test_each_call_of_a_question_is_recorded_for_the_workspace(stub: LlmStubServer, db: Database) -> None:
    stub.anthropic.queue(anthropic_message("{not json", input_tokens=300, output_tokens=20))
    stub.openai.queue(openai_completion(json.dumps(LLM_QUERY), prompt_tokens=500, completion_tokens=80))
    model = await metered_query_model(build_plan_models(settings_for(stub)), db, Scope(WORKSPACE), NOW)
    query, by = await parse_question(QUESTION, VOCAB, model)
    assert by == "llm" and query.filters.owner == "U101"
    rows = await question_rows(db)
    assert [(r.launch_id, r.provider, r.model, r.purpose, r.outcome, r.input_tokens, r.output_tokens)
            for r in rows] == [(None, "anthropic", "claude-sonnet-4-5", "question", "malformed", 300, 20),
                               (None, "openai", "gpt-4.1-mini", "question", "accepted", 500, 80)]
    assert rows[0].cost_usd == pytest.approx((300 * 3 + 20 * 15) / 1e6)
    assert rows[1].cost_usd == pytest.approx((500 * 0.40 + 80 * 1.60) / 1e6)
    async with db.reader() as session:
        spent = await LlmUsageRepository(session, Scope(WORKSPACE)).workspace_spent_usd(month_start(NOW))
        assert await LlmUsageRepository(session, Scope("T-OTHER")).workspace_spent_usd(month_start(NOW)) == 0
    assert spent == pytest.approx(rows[0].cost_usd + rows[1].cost_usd)


async def test_an_answer_that_does_not_validate_is_recorded_as_rejected(stub: LlmStubServer, db: Database) -> None:
    bad = json.dumps({**LLM_QUERY, "filters": {**LLM_QUERY["filters"], "department": "Legal"}})
    stub.anthropic.queue(anthropic_message(bad))
    stub.openai.queue(openai_completion(bad))
    model = await metered_query_model(build_plan_models(settings_for(stub)), db, Scope(WORKSPACE), NOW)
    _, by = await parse_question(QUESTION, VOCAB, model)
    assert by == "rules"
    assert [(r.provider, r.outcome) for r in await question_rows(db)] == [("anthropic", "rejected"),
                                                                          ("openai", "rejected")]


async def test_a_spent_monthly_budget_leaves_the_question_to_the_rules(stub: LlmStubServer, db: Database) -> None:
    settings = settings_for(stub, LLM_QUESTION_BUDGET_USD="0.01")
    async with db.session() as session:
        usage = LlmUsageRepository(session, Scope(WORKSPACE))
        await usage.record(None, UsageRecord("anthropic", "claude-sonnet-4-5", "question", "accepted",
                                             1000, 100, 0, 0, 0.02))
    # Spent this month: no call at all, and the rules answer.
    assert await metered_query_model(build_plan_models(settings), db, Scope(WORKSPACE), NOW) is None
    query, by = await parse_question(QUESTION, VOCAB, None)
    assert by == "rules" and query == (await parse_question(QUESTION, VOCAB, None))[0]
    # Next month the budget is fresh; another workspace never shared it.
    next_month = datetime(2026, 9, 1, 0, 0, tzinfo=UTC)
    async with db.session() as session:
        await WorkspaceRepository(session, Scope("T-OTHER")).ensure("Other")
    assert await metered_query_model(build_plan_models(settings), db, Scope("T-OTHER"), NOW) is not None
    # (rows are dated when written, i.e. now: ask as of a month after the real clock for a fresh budget)
    later = datetime.now(UTC).replace(day=1) + timedelta(days=40)
    assert await metered_query_model(build_plan_models(settings), db, Scope(WORKSPACE), later) is not None
    assert month_start(next_month + timedelta(days=3, hours=5)) == next_month


async def test_the_budget_stops_a_question_between_providers(stub: LlmStubServer, db: Database) -> None:
    settings = settings_for(stub, LLM_QUESTION_BUDGET_USD="0.001")
    stub.anthropic.queue(anthropic_message("{not json", input_tokens=1000, output_tokens=100))  # 0.0045 USD
    stub.openai.queue(openai_completion(json.dumps(LLM_QUERY)))
    model = await metered_query_model(build_plan_models(settings), db, Scope(WORKSPACE), NOW)
    _, by = await parse_question(QUESTION, VOCAB, model)
    assert by == "rules" and not stub.openai.requests
    assert [(r.provider, r.outcome) for r in await question_rows(db)] == [("anthropic", "malformed")]
