"""LLM usage per stored launch (recorded, budgeted, shown in the plan message), LLM settings and the breaker.

The providers are the real SDKs against the stub servers of tests/llm_stubs.py, as in test_llm_planner.py.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from agents import orchestrator
from blocks.launch_messages import plan_message, planned_by_line
from bot.llm_setup import build_plan_models
from bot.settings import Settings
from storage.db import Database
from storage.launches import LaunchRepository
from storage.llm_usage import LlmUsageRepository, UsageRecord
from storage.migrate import upgrade_async
from storage.scope import Scope
from storage.snapshots import HealthState, LaunchHealth
from storage.workspaces import WorkspaceRepository
from tests.llm_stubs import LlmStubServer, anthropic_message
from tests.test_llm_planner import BRIEF, TARGET, TEAM, TODAY, fresh, good_plan, models_for, sent_text, stub

__all__ = ["fresh", "stub"]  # the stub server fixtures, shared with test_llm_planner


# --- stored launches: usage per launch, the plan message ------------------------------------------------


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'llm.db'}"
    await upgrade_async(url)
    database = Database(url)
    yield database
    await database.dispose()


async def _draft_launch(db: Database, scope: Scope, name: str, text: str) -> int:
    async with db.session() as session:
        await WorkspaceRepository(session, scope).ensure("Acme")
        launch = await LaunchRepository(session, scope).create_draft(
            name=name, brief=text, target_date=TARGET, launch_type="mobile_release", channel_id="C1",
            created_by="U100", members=[(m.name, m.role, m.slack_id) for m in TEAM],
        )
        return launch.id


async def test_stored_launch_records_usage_and_the_plan_message_shows_it(
    stub: LlmStubServer, db: Database
) -> None:
    scope = Scope("T-LLM")
    past_id = await _draft_launch(db, scope, "Offline mode for Android",
                                  "Offline mode for Android with Kenji Watanabe, a beta and store review.")
    assert await orchestrator.plan_launch(db, scope.workspace_id, past_id, today=TODAY) == "planned"
    launch_id = await _draft_launch(db, scope, BRIEF.name, BRIEF.text)
    stub.anthropic.queue(anthropic_message("{bad", input_tokens=1000, output_tokens=500, cache_write=8000),
                         anthropic_message(good_plan(), input_tokens=1200, output_tokens=2500, cache_read=8000))
    models = models_for(stub)
    outcome = await orchestrator.plan_launch(db, scope.workspace_id, launch_id, today=TODAY, llm=models)
    assert outcome == "planned"
    dynamic = stub.anthropic.requests[0].body["system"][1]["text"]
    assert "Offline mode for Android" in dynamic and "Kenji" not in sent_text(stub)
    async with db.reader() as session:
        usage = LlmUsageRepository(session, scope)
        rows = await usage.calls(launch_id)
        summary = await usage.summary(launch_id)
        launch = await LaunchRepository(session, scope).get(launch_id)
        tasks = await LaunchRepository(session, scope).tasks(launch_id)
        assert await usage.calls(past_id) == []
    assert [(r.purpose, r.outcome, r.model) for r in rows] == [
        ("plan", "malformed", "claude-sonnet-4-5"), ("repair", "accepted", "claude-sonnet-4-5")]
    expected = (1000 * 3 + 500 * 15 + 8000 * 3.75 + 1200 * 3 + 2500 * 15 + 8000 * 0.3) / 1e6
    assert summary.cost_usd == pytest.approx(expected)
    assert summary.total_tokens == 1000 + 500 + 8000 + 1200 + 2500 + 8000
    assert any(t.title == "Build offline sync for Android" and t.assignee_slack_id == "U107" for t in tasks)
    assert launch is not None
    health = LaunchHealth(launch, HealthState.ON_TRACK, 0, len(tasks), 50)
    context = json.dumps(plan_message(health, tasks, summary), ensure_ascii=False)
    assert f"LLM: claude-sonnet-4-5 · 21.2k tokens · ${expected:.2f}" in context
    assert planned_by_line(None) == "made offline from templates"


async def test_a_launch_over_budget_is_planned_from_templates_without_calls(
    stub: LlmStubServer, db: Database
) -> None:
    scope = Scope("T-BUDGET")
    launch_id = await _draft_launch(db, scope, BRIEF.name, BRIEF.text)
    async with db.session() as session:
        await LlmUsageRepository(session, scope).record(
            launch_id, UsageRecord("anthropic", "claude-sonnet-4-6", "plan", "malformed", 0, 0, 0, 0, 5.0))
    stub.anthropic.default = anthropic_message(good_plan())
    outcome = await orchestrator.plan_launch(db, scope.workspace_id, launch_id, today=TODAY, llm=models_for(stub))
    assert outcome == "planned" and not stub.anthropic.requests
    async with db.reader() as session:
        summary = await LlmUsageRepository(session, scope).summary(launch_id)
    assert summary.planned_by is None
    assert planned_by_line(summary).startswith("made from templates after the LLM failed")


# --- settings, prices, breaker ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"LLM_BUDGET_USD": "lots"}, "LLM_BUDGET_USD must be a number 0 or more"),
        ({"LLM_TIMEOUT_SECONDS": "0"}, "LLM_TIMEOUT_SECONDS must be a number more than 0"),
        ({"LLM_PRICES": "[1]"}, "LLM_PRICES must be a JSON object"),
        ({"LLM_PRICES": '{"m": {"input": 1}}'}, "LLM_PRICES 'm' needs at least input and output prices"),
        ({"ANTHROPIC_MODEL": "claude-new"}, "ANTHROPIC_MODEL 'claude-new' has no price"),
        ({"OPENAI_BASE_URL": "localhost:9"}, "OPENAI_BASE_URL must be an http(s) URL"),
    ],
)
def test_bad_llm_settings_fail_at_start_with_one_line(env: dict[str, str], message: str) -> None:
    from bot.settings import SettingsError

    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env)
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)


def test_llm_prices_override_and_no_keys_means_no_models() -> None:
    settings = Settings.from_env({"OPENAI_MODEL": "gpt-x", "LLM_PRICES": '{"gpt-x": {"input": 1, "output": 4}}'})
    assert settings.llm_prices["gpt-x"].cache_read == 1 and settings.llm_prices["claude-sonnet-4-6"].output == 15
    assert build_plan_models(settings) is None
    only_openai = build_plan_models(Settings.from_env({"OPENAI_API_KEY": "sk-test"}))
    assert only_openai is not None and [m.client.provider for m in only_openai.models] == ["openai"]


def test_breaker_opens_after_consecutive_failures_and_half_opens_after_the_cool_down() -> None:
    from integrations.llm.circuit_breaker import CircuitBreaker

    now = [0.0]
    breaker = CircuitBreaker(failure_threshold=2, cool_down_s=30, clock=lambda: now[0])
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    assert breaker.allows()  # not two in a row
    breaker.record_failure()
    assert not breaker.allows()
    now[0] = 29.9
    assert not breaker.allows()
    now[0] = 30.0
    assert breaker.allows()
    breaker.record_failure()  # the half-open trial failed: open again at once
    assert not breaker.allows()
