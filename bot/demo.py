"""`liftoff demo`: the real app against a local Slack stand-in, played through signed requests.

It shows what Slack would show, as text: the brief modal, the posted plan and the health card.
"""

from __future__ import annotations

import secrets
import tempfile
from datetime import date, timedelta
from pathlib import Path

from agents.brief_file import load_brief
from agents.plan import Brief
from bot.runtime import start_liftoff
from bot.settings import Settings
from bot.standin.api import SlackStandIn
from bot.standin.render import render_blocks, render_view
from bot.standin.simulator import SlackSimulator

SAMPLE_BRIEF = Path(__file__).with_name("demo_brief.md")
ROLE_TITLES = {
    "pm": "Product Manager", "eng_lead": "Engineering Lead", "engineer": "Software Engineer",
    "designer": "Product Designer", "qa": "QA Engineer", "marketing": "Product Marketing Manager",
    "support": "Support Lead", "legal": "Legal Counsel", "sales": "Account Executive",
    "security": "Security Engineer", "data": "Data Analyst", "docs": "Technical Writer",
    "sre": "Site Reliability Engineer", "finance": "Finance Manager", "partnerships": "Partner Manager",
}


def _people(brief: Brief) -> list[dict]:
    return [
        {
            "id": f"U{100 + index}",
            "name": member.name.split()[0].lower(),
            "real_name": member.name,
            "tz": "America/New_York",
            "profile": {"title": ROLE_TITLES.get(member.role, "Team member"), "real_name": member.name},
            # The demo's PM owns the workspace: owners are Liftoff admins and may start launches.
            "is_owner": index == 0,
        }
        for index, member in enumerate(brief.team)
    ]


def _banner(title: str) -> str:
    return f"\n{'═' * 78}\n  {title}\n{'═' * 78}"


async def run_demo(brief_path: str | None = None) -> int:
    brief = load_brief(brief_path or SAMPLE_BRIEF)
    target = brief.target_date if brief.target_date > date.today() else date.today() + timedelta(days=90)
    people = _people(brief)
    channel = {"id": "C0LAUNCH", "name": (brief.channel or "#launch").lstrip("#")}
    pm = people[0]["id"] if people else "U100"
    signing_secret = secrets.token_hex(16)
    standin = await SlackStandIn(users=people, channels=[channel]).start()
    with tempfile.TemporaryDirectory(prefix="liftoff-demo-") as folder:
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{folder}/demo.db",
            slack_bot_token=standin.bot_token,
            slack_signing_secret=signing_secret,
            slack_api_url=standin.base_url,
        )
        liftoff = await start_liftoff(settings, port=0)
        slack = SlackSimulator(liftoff.url, signing_secret, standin)
        names = standin.user_names()
        try:
            print(_banner(f"{names.get(pm, pm)} types /launch new in #{channel['name']}"))
            ack = await slack.slash_command(pm, "/launch", "new", channel_id=channel["id"])
            await standin.wait_for(lambda: standin.view_opened_by(ack.trigger_id) is not None, what="the brief modal")
            view = standin.view_opened_by(ack.trigger_id)
            assert view is not None
            print(f"(acked in {ack.elapsed_ms:.0f} ms)\n")
            print(render_view(view))

            print(_banner(f"…fills in the brief for “{brief.name}” and presses Plan it"))
            ack = await slack.submit_view(pm, view, {
                "name": brief.name,
                "brief": brief.text,
                "target_date": target.isoformat(),
                "team": [p["id"] for p in people],
                "channel": channel["id"],
                "launch_type": brief.launch_type,
            })
            print(f"(modal closed; acked in {ack.elapsed_ms:.0f} ms; planning runs after the ack)")
            await liftoff.services.jobs.drain()  # type: ignore[attr-defined]
            await standin.wait_for(lambda: bool(standin.messages(channel["id"])), what="the plan message")
            print(_banner(f"Liftoff posts the plan in #{channel['name']}"))
            posted = standin.messages(channel["id"])
            plan = next(m for m in posted if m.get("thread_ts") in (None, m["ts"]))
            print(render_blocks(plan.get("blocks", []), names=names))
            for reply in (m for m in posted if m.get("thread_ts") == plan["ts"] and m["ts"] != plan["ts"]):
                print(_banner("…and, in the plan's thread, asks the PM to review the flagged tasks"))
                print(render_blocks(reply.get("blocks", []), names=names))

            print(_banner(f"{names.get(pm, pm)} types /launch status {brief.name}"))
            before = len(standin.ephemerals(pm))
            await slack.slash_command(pm, "/launch", f"status {brief.name}", channel_id=channel["id"])
            await standin.wait_for(lambda: len(standin.ephemerals(pm)) > before, what="the health card")
            print(render_blocks(standin.ephemerals(pm)[-1].get("blocks", []), names=names))
            print("\nThat was the real app, its database and its jobs; only Slack was a local stand-in.")
        finally:
            await slack.close()
            await liftoff.stop()
            await standin.stop()
    return 0
