"""The LLM planner through the real anthropic and openai SDKs against local stub servers (tests/llm_stubs.py).

Each test scripts what the providers answer and asserts on what the planner made of it and on what the
stubs received: fallbacks in order, retries, the circuit breaker, the budget cap, usage and cost, prompt
caching, the check layers, and that no person's name or raw PII ever reached a model.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import pytest

from agents.llm_checks import (
    DEPENDENCY_DROPPED,
    MERGED_DUPLICATE,
    NEEDS_REVIEW,
    OWNER_NOT_IN_TEAM,
    ROLE_NOT_IN_TEAM,
)
from agents.llm_planner import Budget, PlanModels
from agents.llm_prompt import static_system
from agents.pipeline import build_plan
from agents.plan import Brief, EdgeKind, TeamMember
from agents.planning import plan_brief
from bot.llm_setup import build_plan_models
from bot.settings import Settings
from storage.llm_usage import CallOutcome, PastLaunch, UsageRecord
from tests.llm_stubs import (
    LlmStubServer,
    Reply,
    anthropic_error,
    anthropic_message,
    openai_completion,
    openai_error,
)

TODAY = date(2026, 11, 23)
TARGET = date(2027, 2, 15)
TEAM = (
    TeamMember("Maya Chen", "pm", "U100"),
    TeamMember("Omar Haddad", "eng_lead", "U101"),
    TeamMember("Lucia Romero", "engineer", "U102"),
    TeamMember("Kenji Watanabe", "engineer", "U107"),
    TeamMember("Tom Becker", "qa", "U103"),
)
SECRETS = ["Maya", "Chen", "Omar", "Haddad", "Lucia", "Romero", "Kenji", "Watanabe", "Becker",
           "maya.chen@example.com", "415-555-0134", "Priya Nair", "priya@example.com"]
BRIEF = Brief(
    name="Offline sync for the mobile app",
    target_date=TARGET,
    text=(
        "We ship offline sync for the iOS and Android apps. Maya Chen owns the launch and Omar Haddad leads "
        "engineering; Lucia Romero and Kenji Watanabe build it, Tom Becker runs QA. Questions to "
        "maya.chen@example.com or 415-555-0134. We need a regression pass, a beta and release notes."
    ),
    launch_type="mobile_release",
    team=TEAM,
)
PAST = [
    PastLaunch(1, "Dark mode for the web app", "web_release",
               "Dark mode across the web app; Priya Nair (priya@example.com) runs it.", ("Priya Nair",),
               (("Build dark theme tokens", "engineer", 3.0),)),
    PastLaunch(2, "Offline mode for the Android app", "mobile_release",
               "Offline mode and sync for Android; store review and a beta with Priya Nair.", ("Priya Nair",),
               (("Build the offline cache", "engineer", 5.0), ("Submit to Google Play review", "engineer", 2.0))),
    PastLaunch(3, "Annual pricing change", "pricing_change", "New annual plans and billing.", (), ()),
    PastLaunch(4, "Mobile sync beta", "mobile_release", "A sync beta for iOS testers.", (), ()),
]


def task(key: str, title: str, role: str = "engineer", *, owner: str | None = None, days: float = 2,
         confidence: float = 0.85, deps: tuple[str, ...] = (), phase: str = "pre", milestone: bool = False,
         module: str = "") -> dict[str, Any]:
    return {"key": key, "title": title, "description": f"{title}.", "role": role, "owner": owner,
            "estimate_days": 0 if milestone else days, "priority": "P1", "confidence": confidence,
            "phase": phase, "milestone": milestone, "module": module, "depends_on": list(deps)}


def good_plan() -> str:
    tasks = [
        task("kickoff", "Hold the launch kickoff", "pm", owner="pm-1", days=0.5, module="launch"),
        task("sync-ios", "Build offline sync for iOS", owner="engineer-1", days=8, deps=("kickoff",),
             module="engineering"),
        task("sync-android", "Build offline sync for Android", owner="engineer-2", days=8, deps=("kickoff",),
             module="engineering"),
        task("regression", "Run the regression test pass", "qa", owner="qa-1", days=3,
             deps=("sync-ios", "sync-android"), module="qa"),
        task("notes", "Write the release notes", "pm", days=1, deps=("regression",), module="launch"),
        task("launch", "Launch day", "pm", phase="launch", milestone=True, deps=("notes",), module="launch"),
        task("watch", "Watch crash rates after launch", "eng_lead", days=2, phase="post", deps=("launch",)),
    ]
    return json.dumps({"tasks": tasks})


def flawed_plan() -> str:
    tasks = [
        task("a", "Build offline sync", owner="Jonathan Appleseed", days=5),  # hallucinated person
        task("b", "Tune the sync conflict resolver", "wizard", days=3, deps=("a",)),  # role nobody has
        task("c", "Write the sync migration", days=2, confidence=0.4, deps=("a", "GHOST-9")),  # low conf + ghost
        task("d", "Rename the settings toggle", days=0.01),  # under an hour
        task("e", "Rewrite the storage engine", days=400),  # over six months
        task("f", "Build Offline Sync!", days=6, deps=("d",)),  # a duplicate of a
        task("launch", "Launch day", "pm", phase="launch", milestone=True, deps=("b", "c", "d", "e", "f")),
    ]
    return json.dumps({"tasks": tasks})


@pytest.fixture(scope="module")
async def stub() -> AsyncIterator[LlmStubServer]:
    server = LlmStubServer()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture(autouse=True)
def fresh(stub: LlmStubServer) -> None:
    stub.reset()


def models_for(stub: LlmStubServer, **env: str) -> PlanModels:
    settings = Settings.from_env({
        "ANTHROPIC_API_KEY": "sk-ant-test", "OPENAI_API_KEY": "sk-test",
        "ANTHROPIC_BASE_URL": stub.anthropic_url, "OPENAI_BASE_URL": stub.openai_url,
        "LLM_TIMEOUT_SECONDS": "5", **env,
    })
    models = build_plan_models(settings)
    assert models is not None
    return models


class Sink:
    def __init__(self) -> None:
        self.records: list[UsageRecord] = []

    async def __call__(self, record: UsageRecord) -> None:
        self.records.append(record)


def fast_529() -> Reply:
    # retry-after keeps the SDK's own retries quick; the status is what a provider overload returns.
    return anthropic_error(529, "overloaded_error", retry_after="0.01")


def sent_text(stub: LlmStubServer) -> str:
    return json.dumps([r.body for r in stub.anthropic.requests + stub.openai.requests], ensure_ascii=False)


# --- providers in order ------------------------------------------------------------------------------


async def test_anthropic_plan_is_used_and_its_static_prompt_is_cached(stub: LlmStubServer) -> None:
    stub.anthropic.default = anthropic_message(good_plan(), model="claude-sonnet-4-6", cache_write=6000)
    models = models_for(stub)
    sink = Sink()
    result = await plan_brief(BRIEF, TODAY, llm=models, examples=PAST, sink=sink)
    assert result.planned_by == "anthropic:claude-sonnet-4-6"
    assert not stub.openai.requests
    plan = result.plan
    titles = [t.title for t in plan.tasks]
    assert "Build offline sync for Android" in titles and "Watch crash rates after launch" in titles
    by_title = {t.title: t for t in plan.tasks}
    # Handles map back to people only after the answer: engineer-2 is the second engineer of the team.
    assert by_title["Build offline sync for Android"].assignee == "Kenji Watanabe"
    assert by_title["Run the regression test pass"].assignee == "Tom Becker"
    assert by_title["Watch crash rates after launch"].assignee == "Omar Haddad"
    llm_edges = {(e.from_key, e.to_key) for e in plan.edges if e.source == "llm"}
    reg = by_title["Run the regression test pass"].key
    assert (by_title["Build offline sync for iOS"].key, reg) in llm_edges
    assert all(e.kind == EdgeKind.BLOCKS for e in plan.edges if e.source == "llm")
    assert plan.critical_path and plan.tasks[0].due is not None

    body = stub.anthropic.requests[0].body
    assert body["system"][0] == {"type": "text", "text": static_system(), "cache_control": {"type": "ephemeral"}}
    assert "cache_control" not in body["system"][1]
    assert body["output_config"]["format"]["type"] == "json_schema"
    assert body["model"] == "claude-sonnet-4-6"
    # The static block is byte-identical for another launch, so the provider's cache can serve it.
    other = Brief("Pricing page refresh", TARGET, "New annual plans on the pricing page.", "pricing_change", TEAM)
    await plan_brief(other, TODAY, llm=models, sink=sink)
    second = stub.anthropic.requests[1].body
    assert second["system"][0] == body["system"][0] and second["system"][1] != body["system"][1]
    assert sink.records[0].cache_write_tokens == 6000 and sink.records[0].outcome == CallOutcome.ACCEPTED


async def test_429_with_retry_after_is_retried_by_the_sdk_after_the_wait(stub: LlmStubServer) -> None:
    stub.anthropic.queue(anthropic_error(429, "rate_limit_error", retry_after="1"), anthropic_message(good_plan()))
    result = await plan_brief(BRIEF, TODAY, llm=models_for(stub), sink=Sink())
    first, second = stub.anthropic.requests
    assert second.at - first.at >= 0.95
    assert second.headers.get("x-stainless-retry-count") == "1"
    assert result.report.draft is not None and result.report.draft.provider == "anthropic"
    assert not stub.openai.requests


async def test_529_overloaded_falls_through_to_openai(stub: LlmStubServer) -> None:
    stub.anthropic.default = fast_529()
    stub.openai.default = openai_completion(good_plan(), cached_tokens=1024)
    sink = Sink()
    result = await plan_brief(BRIEF, TODAY, llm=models_for(stub), sink=sink)
    assert len(stub.anthropic.requests) == 3  # the call and the SDK's two retries
    assert result.planned_by == "openai:gpt-4.1-mini"
    assert [a.outcome for a in result.report.attempts] == ["unavailable: HTTP 529", "accepted"]
    body = stub.openai.requests[0].body
    assert body["response_format"]["type"] == "json_schema" and body["response_format"]["json_schema"]["strict"]
    assert body["messages"][0] == {"role": "system", "content": static_system()}
    record = sink.records[0]
    assert (record.provider, record.cache_read_tokens, record.input_tokens) == ("openai", 1024, 1500 - 1024)


async def test_timeouts_on_both_fall_back_to_the_templates(stub: LlmStubServer) -> None:
    stub.anthropic.default = Reply(hang_s=10)
    stub.openai.default = Reply(hang_s=10)
    models = models_for(stub, LLM_TIMEOUT_SECONDS="0.3")
    result = await plan_brief(BRIEF, TODAY, llm=models, sink=Sink())
    assert [a.outcome for a in result.report.attempts] == ["unavailable: timed out", "unavailable: timed out"]
    assert result.planned_by == "templates"
    offline = build_plan(BRIEF, TODAY)
    assert [t.to_json() for t in result.plan.tasks] == [t.to_json() for t in offline.tasks]


async def test_errors_from_openai_too_end_in_templates(stub: LlmStubServer) -> None:
    stub.anthropic.default = fast_529()
    stub.openai.default = openai_error(429, "rate_limit_exceeded", retry_after="0.01")
    result = await plan_brief(BRIEF, TODAY, llm=models_for(stub), sink=Sink())
    assert len(stub.openai.requests) == 3
    assert result.planned_by == "templates" and result.plan.tasks


# --- malformed output ----------------------------------------------------------------------------------


async def test_malformed_json_gets_one_repair_with_the_error(stub: LlmStubServer) -> None:
    stub.anthropic.queue(anthropic_message('{"tasks": [{"key": "a", "title": '), anthropic_message(good_plan()))
    sink = Sink()
    result = await plan_brief(BRIEF, TODAY, llm=models_for(stub), sink=sink)
    assert result.planned_by.startswith("anthropic:")
    repair = stub.anthropic.requests[1].body["messages"]
    assert [m["role"] for m in repair] == ["user", "assistant", "user"]
    assert repair[1]["content"] == '{"tasks": [{"key": "a", "title": '
    assert "not valid JSON" in repair[2]["content"]
    assert [(r.purpose, r.outcome) for r in sink.records] == [("plan", "malformed"), ("repair", "accepted")]


async def test_malformed_twice_moves_to_the_next_provider(stub: LlmStubServer) -> None:
    stub.anthropic.default = anthropic_message('{"tasks": "none"}')
    stub.openai.default = openai_completion(good_plan())
    sink = Sink()
    result = await plan_brief(BRIEF, TODAY, llm=models_for(stub), sink=sink)
    assert len(stub.anthropic.requests) == 2
    assert result.planned_by == "openai:gpt-4.1-mini"
    assert [r.outcome for r in sink.records] == ["malformed", "malformed", "accepted"]


# --- the check layers ------------------------------------------------------------------------------------


async def test_check_layers_flag_reassign_clamp_drop_and_merge(stub: LlmStubServer) -> None:
    stub.anthropic.default = anthropic_message(flawed_plan())
    result = await plan_brief(BRIEF, TODAY, llm=models_for(stub), sink=Sink())
    assert result.planned_by.startswith("anthropic:")
    tasks = {t.title: t for t in result.plan.tasks}
    names = {m.name for m in TEAM}
    # Layer 2: the invented owner is flagged and the task goes to an engineer of the team.
    sync = tasks["Build offline sync"]
    assert OWNER_NOT_IN_TEAM in sync.flags and sync.assignee in {"Lucia Romero", "Kenji Watanabe"}
    assert "Jonathan Appleseed" not in {t.assignee for t in result.plan.tasks}
    wizard = tasks["Tune the sync conflict resolver"]
    assert ROLE_NOT_IN_TEAM in wizard.flags and wizard.assignee in names
    # Layer 1 and layer 4: low confidence goes to review; the ghost dependency is gone, the real one stays.
    migration = tasks["Write the sync migration"]
    assert {"low_confidence", NEEDS_REVIEW, DEPENDENCY_DROPPED} <= set(migration.flags)
    into_migration = {e.from_key for e in result.plan.edges if e.to_key == migration.key and e.source == "llm"}
    assert into_migration == {sync.key}
    # Layer 3: absurd durations are flagged and kept within an hour .. six months.
    assert "odd_duration" in tasks["Rename the settings toggle"].flags
    assert tasks["Rename the settings toggle"].estimate_days == pytest.approx(1 / 8)
    assert "odd_duration" in tasks["Rewrite the storage engine"].flags
    assert tasks["Rewrite the storage engine"].estimate_days == 130
    # Duplicates: "Build Offline Sync!" folded into "Build offline sync", with its longer estimate.
    assert "Build Offline Sync!" not in tasks and MERGED_DUPLICATE in sync.flags and sync.estimate_days == 6
    assert "odd_duration" not in sync.flags and NEEDS_REVIEW not in sync.flags


async def test_a_plan_without_tasks_is_rejected_and_the_next_provider_plans(stub: LlmStubServer) -> None:
    stub.anthropic.default = anthropic_message('{"tasks": []}')
    stub.openai.default = openai_completion(good_plan())
    sink = Sink()
    result = await plan_brief(BRIEF, TODAY, llm=models_for(stub), sink=sink)
    assert len(stub.anthropic.requests) == 1 and result.planned_by.startswith("openai:")
    assert [r.outcome for r in sink.records] == ["rejected", "accepted"]


# --- circuit breaker and budget --------------------------------------------------------------------------


async def test_circuit_breaker_skips_a_dead_provider_then_tries_it_again(stub: LlmStubServer) -> None:
    stub.anthropic.default = fast_529()
    stub.openai.default = openai_completion(good_plan())
    models = models_for(stub)
    now = [1000.0]
    breaker = models.models[0].breaker
    breaker.clock = lambda: now[0]
    for _ in range(breaker.failure_threshold):
        await plan_brief(BRIEF, TODAY, llm=models, sink=Sink())
    calls = len(stub.anthropic.requests)
    assert calls == 3 * breaker.failure_threshold and breaker.is_open
    result = await plan_brief(BRIEF, TODAY, llm=models, sink=Sink())
    assert len(stub.anthropic.requests) == calls  # skipped, not called
    assert result.report.attempts[0].outcome == "skipped: circuit open" and result.planned_by.startswith("openai")
    # After the cool-down one trial call goes through; it succeeds and closes the breaker.
    now[0] += breaker.cool_down_s
    stub.anthropic.default = anthropic_message(good_plan())
    result = await plan_brief(BRIEF, TODAY, llm=models, sink=Sink())
    assert result.planned_by.startswith("anthropic") and not breaker.is_open and breaker.failures == 0


async def test_budget_cap_stops_llm_use_and_the_templates_plan(stub: LlmStubServer) -> None:
    stub.anthropic.default = anthropic_message("not json at all")  # 900 in + 1200 out = $0.0207 on sonnet
    stub.openai.default = openai_completion(good_plan())
    models = models_for(stub, LLM_BUDGET_USD="0.01")
    sink = Sink()
    result = await plan_brief(BRIEF, TODAY, llm=models, sink=sink)
    assert len(stub.anthropic.requests) == 1 and not stub.openai.requests  # no repair, no next provider
    assert result.report.stopped_by_budget and result.planned_by == "templates"
    assert sink.records[0].cost_usd == pytest.approx((900 * 3 + 1200 * 15) / 1e6)
    # A launch that already spent its budget makes no call at all.
    stub.reset()
    result = await plan_brief(BRIEF, TODAY, llm=models, budget=Budget(0.01, 0.02), sink=sink)
    assert not stub.anthropic.requests and result.planned_by == "templates" and result.report.stopped_by_budget


# --- privacy ---------------------------------------------------------------------------------------------


async def test_models_never_see_names_or_raw_pii(stub: LlmStubServer) -> None:
    stub.anthropic.queue(anthropic_message("{oops"))
    stub.anthropic.default = anthropic_message('{"tasks": 1}')  # the repair is malformed too
    stub.openai.default = openai_completion(good_plan())
    result = await plan_brief(BRIEF, TODAY, llm=models_for(stub), examples=PAST, sink=Sink())
    assert result.planned_by.startswith("openai")
    sent = sent_text(stub)
    assert len(stub.anthropic.requests) == 2 and len(stub.openai.requests) == 1
    for secret in SECRETS:
        assert secret not in sent, secret
    user = stub.anthropic.requests[0].body["messages"][0]["content"]
    assert "engineer x2: engineer-1, engineer-2" in user and "qa x1: qa-1" in user
    assert "<PERSON_1>" in user and "<EMAIL_1>" in user and "<PHONE_1>" in user
    # The examples: the three most similar past launches, the Android offline one first.
    dynamic = stub.anthropic.requests[0].body["system"][1]["text"]
    assert dynamic.index("Offline mode for the Android app") < dynamic.index("Mobile sync beta")
    assert "Annual pricing change" not in dynamic
    assert "Build the offline cache" in dynamic


async def test_without_models_the_plan_is_the_offline_plan() -> None:
    result = await plan_brief(BRIEF, TODAY, llm=None)
    assert result.plan.to_json() == build_plan(BRIEF, TODAY).to_json()
    assert result.planned_by == "templates" and not result.report.attempts
