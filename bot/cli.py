"""The `liftoff` command: serve, worker, migrate, plan, demo, redact."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.settings import Settings, SettingsError


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"liftoff: configuration error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # presidio announces every recognizer it loads at INFO; that is noise in Liftoff's log.
    logging.getLogger("presidio-analyzer").setLevel(max(logging.WARNING, logging.getLevelName(settings.log_level)))
    return int(args.run(settings, args) or 0)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="liftoff", description="Plan product launches and track OKRs in Slack.")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the Slack app (the sandbox when no Slack credentials are set)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=3000)
    serve.add_argument("--processes", type=int, default=1,
                       help="web processes sharing the port, e.g. one per core (needs REDIS_URL and HTTP mode)")
    serve.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    serve.set_defaults(run=_serve)

    worker = sub.add_parser("worker", help="run jobs from the RQ queue (needs REDIS_URL)")
    worker.add_argument("--burst", action="store_true", help="stop when the queue is empty")
    worker.set_defaults(run=_worker)

    scheduler = sub.add_parser("scheduler", help="run the schedule (digests, notifications, daily jobs) on RQ's cron")
    scheduler.set_defaults(run=_scheduler)

    migrate = sub.add_parser("migrate", help="bring the database schema up to date")
    migrate.set_defaults(run=_migrate)

    plan = sub.add_parser("plan", help="plan a launch from a brief file, offline")
    plan.add_argument("brief", help="Markdown brief with YAML front matter")
    plan.add_argument("--json", action="store_true", help="print the plan as JSON")
    plan.set_defaults(run=_plan)

    demo = sub.add_parser("demo", help="play /launch new, a brief and /launch status against a local Slack stand-in")
    demo.add_argument("--brief", help="brief file to submit (default: a built-in sample)")
    demo.set_defaults(run=_demo)

    sandbox = sub.add_parser("sandbox", help="the app in a local Slack-like web page, no Slack workspace needed")
    sandbox.add_argument("action", nargs="?", choices=["start", "reset"], default="start",
                         help="start (default) serves it; reset deletes its data so the next start is fresh")
    sandbox.add_argument("--host", default="127.0.0.1", help="loopback only")
    sandbox.add_argument("--port", type=int, default=3000)
    sandbox.set_defaults(run=_sandbox)

    audit = sub.add_parser("audit", help="the audit log: verify its hash chain, export it, apply retention")
    audit_sub = audit.add_subparsers(required=True, metavar="ACTION")
    audit_sub.add_parser("verify", help='print "ok" or the first tampered entry').set_defaults(
        run=_audit, audit_action="verify"
    )
    audit_export = audit_sub.add_parser("export", help="write entries as JSON lines to standard output")
    audit_export.add_argument("--since", required=True, help="first day to include, YYYY-MM-DD")
    audit_export.set_defaults(run=_audit, audit_action="export")
    audit_sub.add_parser("purge", help="delete entries older than AUDIT_RETENTION_DAYS").set_defaults(
        run=_audit, audit_action="purge"
    )

    redact = sub.add_parser("redact", help="print text with PII redacted, then a JSON line of counts")
    redact.add_argument("file", nargs="?", default="-", help="file to read, or - for standard input")
    redact.set_defaults(run=_redact)

    from bot.okr_command import add_okr_parser

    add_okr_parser(sub)
    return parser


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    if not settings.has_slack_credentials:
        print("No SLACK_BOT_TOKEN/SLACK_SIGNING_SECRET set: starting the sandbox (the app with a stand-in for Slack).")
        return _sandbox(settings, argparse.Namespace(action="start", host=args.host, port=args.port))
    if args.processes > 1 and (settings.jobs_inline or settings.uses_socket_mode or args.port == 0):
        print("liftoff: --processes above 1 needs REDIS_URL (jobs in RQ), HTTP mode and a fixed --port.",
              file=sys.stderr)
        return 2
    from bot.serve import serve_forever

    asyncio.run(serve_forever(settings, host=args.host, port=args.port, processes=args.processes, child=args.child))
    return 0


def _worker(settings: Settings, args: argparse.Namespace) -> int:
    if settings.redis_url is None:
        print("liftoff: the worker needs REDIS_URL; without it jobs run inside `liftoff serve`.", file=sys.stderr)
        return 2
    from redis import Redis
    from rq import Queue, Worker

    # Loaded once here so every forked work horse starts with the pipeline and the PII engine ready.
    import bot.job_functions  # noqa: F401
    import bot.wiring  # noqa: F401
    from agents.guardrail import warm_up

    warm_up()
    connection = Redis.from_url(settings.redis_url)
    Worker([Queue(settings.queue_name, connection=connection)], connection=connection).work(burst=args.burst)
    return 0


def _scheduler(settings: Settings, args: argparse.Namespace) -> int:
    if settings.redis_url is None:
        print("liftoff: the scheduler needs REDIS_URL; without it `liftoff serve` runs the schedule itself.",
              file=sys.stderr)
        return 2
    from bot.scheduler import run_cron

    run_cron(settings)
    return 0


def _migrate(settings: Settings, args: argparse.Namespace) -> int:
    from storage.migrate import upgrade

    upgrade(settings.database_url)
    print("database is up to date")
    return 0


def _plan(settings: Settings, args: argparse.Namespace) -> int:
    from agents.brief_file import BriefFileError, load_brief
    from agents.pipeline import build_plan
    from blocks.text import environment

    try:
        brief = load_brief(args.brief)
    except BriefFileError as exc:
        print(f"liftoff: {exc}", file=sys.stderr)
        return 2
    plan = build_plan(brief)
    if args.json:
        json.dump(plan.to_json(), sys.stdout, indent=2)
        print()
    else:
        template = environment().overlay(loader=_templates()).get_template("plan.txt.j2")
        print(template.render(plan=plan))
    return 0


def _templates():  # noqa: ANN202 - a jinja2 loader
    from jinja2 import FileSystemLoader

    return FileSystemLoader(Path(__file__).parent / "templates")


def _demo(settings: Settings, args: argparse.Namespace) -> int:
    from bot.demo import run_demo

    if settings.log_level == "INFO":
        # The demo's output is the story; start-up chatter would bury it.
        logging.getLogger().setLevel(logging.WARNING)

    return asyncio.run(run_demo(brief_path=args.brief))


def _sandbox(settings: Settings, args: argparse.Namespace) -> int:
    from bot.sandbox.runner import SandboxError, reset_sandbox, serve_sandbox

    try:
        if args.action == "reset":
            removed = reset_sandbox(settings)
            print(f"sandbox reset: removed {len(removed)} file(s); the next start seeds a fresh workspace")
            return 0
        asyncio.run(serve_sandbox(settings, host=args.host, port=args.port))
    except SandboxError as exc:
        print(f"liftoff: {exc}", file=sys.stderr)
        return 2
    return 0


def _audit(settings: Settings, args: argparse.Namespace) -> int:
    from bot import audit_command

    if args.audit_action == "export":
        try:
            since = audit_command.parse_day(args.since)
        except ValueError:
            print(f"liftoff: --since must be a date like 2026-01-31 (got {args.since!r})", file=sys.stderr)
            return 2
        return asyncio.run(audit_command.export(settings, since))
    if args.audit_action == "purge":
        return asyncio.run(audit_command.purge(settings))
    return asyncio.run(audit_command.verify(settings))


def _redact(settings: Settings, args: argparse.Namespace) -> int:
    from bot.redact_command import run

    return run(args.file)


if __name__ == "__main__":
    sys.exit(main())
