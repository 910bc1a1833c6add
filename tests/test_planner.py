"""The template planner and the backward scheduler, tested against their own functions."""

from __future__ import annotations

import importlib.util
import sys
from datetime import date, timedelta
from pathlib import Path

import networkx as nx
import pytest

from agents.dependency import analyze, infer_edges
from agents.evaluator import evaluate
from agents.plan import Brief, Edge, EdgeKind, Phase, Plan, PlannedTask, TeamMember
from agents.planner import plan_from_templates, select_modules
from agents.scheduler import STARTS_IN_PAST, schedule_backwards
from agents.template_library import MODULE_DIR, load_library

SHARED = Path(__file__).resolve().parents[2] / "shared"
TODAY = date(2026, 11, 23)  # a Monday
TARGET = date(2027, 3, 15)  # a Monday

TEAM = (
    TeamMember("Pat PM", "pm"),
    TeamMember("Lee Lead", "eng_lead"),
    TeamMember("Eve Engineer", "engineer"),
    TeamMember("Sam Engineer", "engineer"),
    TeamMember("Quinn QA", "qa"),
    TeamMember("Dana Designer", "designer"),
    TeamMember("Mo Marketing", "marketing"),
    TeamMember("Sue Support", "support"),
    TeamMember("Doc Writer", "docs"),
)


def brief(text: str, launch_type: str = "software_release", team: tuple[TeamMember, ...] = TEAM) -> Brief:
    return Brief(name="Test launch", target_date=TARGET, text=text, launch_type=launch_type, team=team)


def run_pipeline(b: Brief, today: date = TODAY) -> Plan:
    """The offline pipeline, glued here so these tests need nothing but the planning agents."""
    tasks, template_edges = plan_from_templates(b)
    edges = infer_edges(tasks, template_edges)
    analysis = analyze(tasks, edges)
    schedule_backwards(tasks, analysis.edges, b.target_date, today)
    evaluation = evaluate(b, tasks, analysis, today)
    return Plan(
        b,
        tasks,
        analysis.edges,
        analysis.critical_path,
        analysis.critical_path_days,
        evaluation.risks,
        evaluation.quality_score,
    )


def titles(tasks: list[PlannedTask]) -> str:
    return "\n".join(t.title.lower() for t in tasks)


STANDARD = "We are releasing version 3 of our product to all customers next quarter."


# --- the library ------------------------------------------------------------------------------


def test_library_has_at_least_twelve_modules_one_file_each() -> None:
    lib = load_library()
    files = sorted(MODULE_DIR.glob("*.yaml"))
    assert len(lib.modules) >= 12
    assert len(files) == len(lib.modules)
    assert len({m.prefix for m in lib.modules.values()}) == len(lib.modules)


def test_every_launch_type_has_its_own_profile() -> None:
    from storage.enums import LaunchType

    lib = load_library()
    assert {lib.profile_for(str(t)).key for t in LaunchType} == {str(t) for t in LaunchType}
    assert lib.profile_for("something new").key == "software_release"


def test_every_module_template_is_acyclic() -> None:
    for module in load_library().modules.values():
        graph = nx.DiGraph()
        graph.add_nodes_from(t.id for t in module.tasks)
        graph.add_edges_from((ref, t.id) for t in module.tasks for ref in t.after)
        assert nx.is_directed_acyclic_graph(graph), module.key


# --- selection and sizing ---------------------------------------------------------------------


def test_standard_software_launch_has_at_least_40_tasks_in_plain_words() -> None:
    tasks, _ = plan_from_templates(brief(STANDARD))
    assert 40 <= len(tasks) <= 300
    text = titles(tasks)
    for phrase in (
        "qa sign-off on the release candidate",
        "write the launch blog post",
        "update help center articles",
        "deploy to production",
    ):
        assert phrase in text


def test_standard_launch_leaves_out_what_it_does_not_need() -> None:
    keys = {c.module.key for c in select_modules(brief(STANDARD))}
    assert {
        "mobile_store",
        "localization",
        "pricing_billing",
        "event",
        "security_review",
        "press",
    }.isdisjoint(keys)
    text = titles(plan_from_templates(brief(STANDARD))[0])
    assert "app store" not in text and "translate" not in text and "price book" not in text


def test_what_the_brief_names_is_planned() -> None:
    b = brief(
        "We ship the new dashboard in German, French and Japanese. A security review and a penetration test "
        "are required, and we brief the press under embargo."
    )
    keys = {c.module.key for c in select_modules(b)}
    assert {"localization", "security_review", "press"} <= keys
    tasks, _ = plan_from_templates(b)
    translations = [t for t in tasks if t.title.startswith("Translate the app into")]
    assert sorted(t.title.rsplit(" ", 1)[-1] for t in translations) == ["French", "German", "Japanese"]


def test_negated_mentions_do_not_select_modules() -> None:
    b = brief(
        "A marketing-only campaign with no product changes and no beta. We host a webinar.",
        launch_type="marketing_campaign",
    )
    keys = {c.module.key for c in select_modules(b)}
    assert "engineering" not in keys and "beta" not in keys and "qa" not in keys
    assert "event" in keys
    text = titles(plan_from_templates(b)[0])
    assert "code freeze" not in text and "deploy to production" not in text


def test_named_product_changes_become_build_tasks() -> None:
    tasks, _ = plan_from_templates(brief("The release adds dark mode and replaces the settings page."))
    builds = [t.title for t in tasks if t.title.startswith("Build: ")]
    assert builds == ["Build: add dark mode", "Build: replace the settings page"]


def test_stated_durations_size_tasks() -> None:
    tasks, _ = plan_from_templates(
        brief("We run a three-week beta through TestFlight before release.", launch_type="mobile_release")
    )
    run = next(t for t in tasks if t.title == "Run the beta")
    assert run.estimate_days == 15


BIG = " ".join(
    [
        "Our web app, iOS and Android apps and public API, with a database change.",
        "The release adds dark mode, adds offline sync, replaces search, introduces workspaces,",
        "adds audit logs, adds exports, adds comments and improves onboarding.",
        "We ship in German, French, Spanish, Italian, Portuguese, Dutch, Swedish, Danish, Japanese,",
        "Korean, Chinese and Arabic. A four-week beta through TestFlight.",
        "Python, JavaScript, Golang, Java, Ruby, PHP, Swift SDK and .NET SDKs.",
        "New pricing with a price book and a discount policy; sales needs a deck and training.",
        "Security review, penetration test, load testing, status page.",
        "Legal reviews the terms and privacy. Press under embargo, a webinar, launch partners,",
        "paid ads campaign, analytics dashboard, help center and docs.",
    ]
)


def test_the_biggest_launch_stays_within_300_tasks() -> None:
    tasks, _ = plan_from_templates(brief(BIG))
    assert 270 <= len(tasks) <= 300


def test_past_the_cap_optional_depth_is_trimmed(monkeypatch: pytest.MonkeyPatch) -> None:
    full, _ = plan_from_templates(brief(BIG))
    monkeypatch.setattr("agents.planner.MAX_TASKS", 240)
    tasks, edges = plan_from_templates(brief(BIG))
    assert len(tasks) <= 240 < len(full)
    kept = {t.title for t in tasks}
    assert "QA sign-off on the release candidate" in kept and "Submit to the App Store for review" in kept
    keys = {t.key for t in tasks}
    assert all(e.from_key in keys and e.to_key in keys for e in edges)
    for prefix in {k.split("-")[0] for k in keys}:
        numbers = sorted(int(k.split("-")[1]) for k in keys if k.split("-")[0] == prefix)
        assert numbers == list(range(1, len(numbers) + 1))  # renumbered without gaps


def test_keys_unique_prefixed_and_output_deterministic() -> None:
    b = brief(
        "Mobile app in Spanish with in-app purchases on iOS and Android, plus a beta.", "mobile_release"
    )
    first = plan_from_templates(b)
    second = plan_from_templates(b)
    assert first == second
    keys = [t.key for t in first[0]]
    assert len(keys) == len(set(keys))
    assert all(k.split("-")[0].isupper() and k.split("-")[1].isdigit() for k in keys)


def test_template_edges_are_blocking_and_reach_the_launch_milestone() -> None:
    tasks, edges = plan_from_templates(brief(STANDARD))
    assert all(e.kind == EdgeKind.BLOCKS and e.source == "template" for e in edges)
    graph = nx.DiGraph((e.from_key, e.to_key) for e in edges)
    milestone = next(t for t in tasks if t.milestone and t.phase == Phase.LAUNCH)
    for task in tasks:
        if task.key == milestone.key:
            continue
        if task.phase == Phase.PRE:
            assert nx.has_path(graph, task.key, milestone.key), task.title
        else:
            assert nx.has_path(graph, milestone.key, task.key), task.title


# --- owners -----------------------------------------------------------------------------------


def test_assignments_are_balanced_between_people_of_a_role() -> None:
    tasks, _ = plan_from_templates(brief(STANDARD + " It adds search, adds exports and adds sharing."))
    load: dict[str, float] = {}
    for task in tasks:
        if task.role == "engineer":
            load[task.assignee or ""] = load.get(task.assignee or "", 0.0) + max(task.effort_days, 0.25)
    assert set(load) == {"Eve Engineer", "Sam Engineer"}
    biggest = max(t.effort_days for t in tasks if t.role == "engineer")
    assert abs(load["Eve Engineer"] - load["Sam Engineer"]) <= biggest


def test_role_aliases_and_unowned() -> None:
    team = (TeamMember("Pat", "Product Manager"), TeamMember("Lee", "tech lead"))
    tasks, _ = plan_from_templates(brief(STANDARD + " Legal must review the terms.", team=team))
    by_role = {t.role: t for t in tasks}
    assert by_role["engineer"].assignee == "Lee"  # engineer falls back to the eng lead
    assert by_role["qa"].assignee == "Lee"
    legal = by_role["legal"]
    assert legal.assignee is None and "unowned" in legal.flags
    assert all("unowned" not in t.flags for t in tasks if t.assignee)


# --- scheduling -------------------------------------------------------------------------------


def test_schedule_uses_business_days_and_respects_blocks_edges() -> None:
    plan = run_pipeline(brief(STANDARD))
    by_key = {t.key: t for t in plan.tasks}
    for task in plan.tasks:
        assert task.start and task.due and task.start <= task.due
        assert task.start.weekday() < 5 and task.due.weekday() < 5, task
    for edge in plan.edges:
        if edge.kind != EdgeKind.BLOCKS:
            continue
        before, after = by_key[edge.from_key], by_key[edge.to_key]
        if before.milestone:
            assert before.due <= after.start
        else:
            assert before.due < after.start, (before.key, after.key)


def test_launch_milestone_on_target_and_post_work_after_it() -> None:
    plan = run_pipeline(brief(STANDARD))
    milestone = next(t for t in plan.tasks if t.milestone and t.phase == Phase.LAUNCH)
    assert milestone.start == milestone.due == TARGET
    assert all(t.due < TARGET for t in plan.tasks if t.phase == Phase.PRE)
    assert all(t.start == TARGET for t in plan.tasks if t.phase == Phase.LAUNCH)
    assert all(t.start > TARGET for t in plan.tasks if t.phase == Phase.POST)


def _task(key: str, days: float, assignee: str | None = None) -> PlannedTask:
    return PlannedTask(
        key=key,
        title=key,
        description="",
        team="engineering",
        role="engineer",
        estimate_days=days,
        assignee=assignee,
    )


def test_backward_schedule_on_a_hand_made_chain_over_a_weekend() -> None:
    tasks = [_task("A", 2), _task("B", 1), _task("C", 1)]
    edges = [Edge("A", "B"), Edge("B", "C")]
    friday = date(2027, 3, 12)
    schedule_backwards(tasks, edges, friday, TODAY)
    a, b, c = tasks
    assert c.due == c.start == friday  # a sink is due on the target date
    assert b.due == b.start == date(2027, 3, 11)
    assert (a.start, a.due) == (date(2027, 3, 9), date(2027, 3, 10))


def test_weekend_target_falls_back_to_friday() -> None:
    tasks = [_task("A", 1)]
    schedule_backwards(tasks, [], date(2027, 3, 14), TODAY)  # a Sunday
    assert tasks[0].due == date(2027, 3, 12)


def test_starts_in_the_past_are_flagged() -> None:
    tasks = [_task("A", 10), _task("B", 10)]
    schedule_backwards(tasks, [Edge("A", "B")], TODAY + timedelta(days=14), TODAY)
    assert STARTS_IN_PAST in tasks[0].flags
    assert STARTS_IN_PAST not in tasks[1].flags


def test_levelling_spreads_one_persons_parallel_work() -> None:
    tasks = [_task("A", 1, "Eve"), _task("B", 1, "Eve"), _task("C", 1, "Sam")]
    schedule_backwards(tasks, [], TARGET, TODAY)
    assert {tasks[0].due, tasks[1].due} == {
        TARGET,
        TARGET - timedelta(days=3),
    }  # Monday and the Friday before
    assert tasks[2].due == TARGET
    unlevelled = [_task("A", 1, "Eve"), _task("B", 1, "Eve")]
    schedule_backwards(unlevelled, [], TARGET, TODAY, level_resources=False)
    assert unlevelled[0].due == unlevelled[1].due == TARGET


# --- the sample briefs ------------------------------------------------------------------------


def _plan_eval():
    spec = importlib.util.spec_from_file_location(
        "plan_eval", Path(__file__).resolve().parents[1] / "bench" / "plan_eval.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not (SHARED / "briefs").is_dir(), reason="sample briefs not found")
def test_sample_briefs_meet_the_targets() -> None:
    import yaml

    from agents.brief_file import load_brief

    plan_eval = _plan_eval()
    for expect_path in sorted((SHARED / "briefs").glob("*.expect.yaml")):
        name = expect_path.name.removesuffix(".expect.yaml")
        plan = run_pipeline(load_brief(SHARED / "briefs" / f"{name}.md")).to_json()
        score = plan_eval.score_plan(name, plan, yaml.safe_load(expect_path.read_text()))
        assert score.size_ok, (name, score.tasks)
        assert score.coverage >= 0.95, (name, score.missing)
        assert score.ordering >= 0.95, (name, score.unordered)
        assert score.irrelevant <= 0.02, (name, score.irrelevant_tasks)
