"""`liftoff okr import TREE.yaml` and `liftoff okr ask QUESTION --as USER --today DAY [--json]`."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import date
from typing import Any

from bot.settings import Settings

DEFAULT_WORKSPACE = "T0LIFTOFF"


def add_okr_parser(sub: Any) -> None:
    okr = sub.add_parser("okr", help="OKRs: import a tree, ask a question")
    okr_sub = okr.add_subparsers(required=True, metavar="OKR_COMMAND")
    importer = okr_sub.add_parser("import", help="import periods, people, objectives and check-ins from YAML")
    importer.add_argument("tree", help="a tree file (see ../shared/okr/README.md)")
    importer.add_argument("--workspace", default=DEFAULT_WORKSPACE, help="Slack team id to import into")
    importer.add_argument("--today", type=date.fromisoformat, default=None, help="YYYY-MM-DD (default: today)")
    importer.set_defaults(run=run_import)
    asker = okr_sub.add_parser("ask", help="answer a question about OKRs as a person sees them")
    asker.add_argument("question")
    asker.add_argument("--as", dest="user", required=True, help="the asker's Slack user id")
    asker.add_argument("--workspace", default=DEFAULT_WORKSPACE, help="Slack team id")
    asker.add_argument("--today", type=date.fromisoformat, default=None, help="YYYY-MM-DD (default: today)")
    asker.add_argument("--json", action="store_true", help="print the answer as JSON")
    asker.set_defaults(run=run_ask)


def run_import(settings: Settings, args: argparse.Namespace) -> int:
    from agents.okr_import import TreeFileError, load_tree
    from storage.migrate import upgrade

    try:
        data = load_tree(args.tree)
    except TreeFileError as exc:
        print(f"liftoff: {exc}", file=sys.stderr)
        return 2
    upgrade(settings.database_url)
    try:
        summary = asyncio.run(_import(settings, args.workspace, data, args.today or date.today()))
    except TreeFileError as exc:
        print(f"liftoff: {exc}", file=sys.stderr)
        return 2
    print(f"imported {summary.periods} periods, {summary.people} people, {summary.objectives} objectives, "
          f"{summary.key_results} key results, {summary.checkins} new check-ins")
    return 0


async def _import(settings: Settings, workspace: str, data: dict[str, Any], today: date) -> Any:
    from agents.okr_import import import_tree
    from storage.db import Database
    from storage.okrs import OkrRepository
    from storage.scope import Scope
    from storage.workspaces import WorkspaceRepository

    db = Database(settings.database_url)
    try:
        async with db.session() as session:
            await WorkspaceRepository(session, Scope(workspace)).ensure()
            return await import_tree(OkrRepository(session, Scope(workspace)), data, today)
    finally:
        await db.dispose()


def run_ask(settings: Settings, args: argparse.Namespace) -> int:
    answer = asyncio.run(_ask(settings, args.workspace, args.question, args.user, args.today or date.today()))
    if args.json:
        print(json.dumps(answer, indent=2))
    else:
        print(answer["answer"])
    return 0


async def _ask(settings: Settings, workspace: str, question: str, user: str, today: date) -> dict[str, Any]:
    from agents.query import ask
    from storage.db import Database
    from storage.okrs import OkrRepository
    from storage.scope import Scope

    db = Database(settings.database_url)
    try:
        model = None
        if settings.anthropic_api_key or settings.openai_api_key:  # the SDKs load only when they can be used
            from agents.query_llm import metered_query_model
            from bot.llm_setup import build_plan_models
            from storage.models import utcnow

            model = await metered_query_model(build_plan_models(settings), db, Scope(workspace, user), utcnow())
        async with db.reader() as session:
            answer = await ask(OkrRepository(session, Scope(workspace, user)), question, asker=user, today=today,
                               model=model)
            return answer.to_json()
    finally:
        await db.dispose()
