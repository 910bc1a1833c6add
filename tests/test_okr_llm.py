"""`/okr ask` through an LLM: the planner's real anthropic and openai clients (bot/llm_setup.py) against the local
stub servers (tests/llm_stubs.py). A valid answer gives the rule parser's typed query; any other answer, or no
answer, falls back to the rule parser. Names never reach the model."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from agents.query import parse_question
from agents.query_llm import mask_people, query_model
from agents.query_types import Vocabulary
from bot.llm_setup import build_plan_models
from bot.settings import Settings
from tests.llm_stubs import LlmStubServer, anthropic_error, anthropic_message, openai_completion

VOCAB = Vocabulary(people={"U100": "Maya Chen", "U101": "Omar Haddad"}, departments=("Engineering", "Sales"),
                   teams=("Search",), periods=("2026-Q3",))
QUESTION = "which key results of Omar Haddad are at risk in engineering this quarter?"
LLM_QUERY = {"intent": "list", "subject": "key_results",
             "filters": {"status": ["off_track", "at_risk"], "period": "this_quarter", "level": None,
                         "department": "engineering", "team": None, "owner": "U101", "text": None}}


@pytest.fixture(scope="module")
async def stub() -> AsyncIterator[LlmStubServer]:
    server = LlmStubServer()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture(autouse=True)
def fresh(stub: LlmStubServer) -> None:
    stub.reset()


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


def test_names_become_mentions() -> None:
    people = {"U1": "Maya Chen", "U2": "Maya Ortiz", "U3": "Omar Haddad"}
    assert mask_people("what does maya chen own, and Omar?", people) == "what does <@U1> own, and <@U3>?"
    assert "Maya" in mask_people("Maya's goals", people)  # two Mayas: left for the rules to refuse
