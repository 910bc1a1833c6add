"""Jinja2 rendering of message text, and the small text helpers Block Kit needs."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined


def escape(text: Any) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def short_date(day: date | None) -> str:
    return day.strftime("%a %b %-d") if day else "no date"


def mention(slack_id: str | None, fallback: str | None = None) -> str:
    if slack_id:
        return f"<@{slack_id}>"
    return escape(fallback) if fallback else "_unassigned_"


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("blocks", "templates"),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters.update(esc=escape, short_date=short_date, mention=mention, truncate_to=truncate)
    return env


def render(template: str, **values: Any) -> str:
    return environment().get_template(template).render(**values).strip()
