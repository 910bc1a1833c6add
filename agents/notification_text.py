"""The text of each domain event, rendered with jinja2 from agents/templates/notifications.

Plain text, not mrkdwn: blocks/digest.py escapes it when it builds the message, and email sends it as it is.
Every field is cut so that even a grouped message of many events stays within Slack's limits.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from agents.notification import EventKind

_SPACE = re.compile(r"\s+")
_MENTION = re.compile(r"<@([A-Z0-9]+)(?:\|([^>]*))?>")


def cut(text: Any, limit: int) -> str:
    value = str(text)
    return value if len(value) <= limit else value[: limit - 1] + "…"


def day(value: date | None) -> str:
    return value.strftime("%a %b %-d") if value else "no date"


def oneline(text: Any) -> str:
    return _SPACE.sub(" ", str(text)).strip()


def label(state: Any) -> str:
    """on_track -> on track."""
    return str(state).replace("_", " ")


def plain_mentions(text: str, names: dict[str, str]) -> str:
    """Slack's <@U123> (or <@U123|name>) as @Name: the event text is plain and is escaped later."""
    return _MENTION.sub(lambda m: "@" + (names.get(m.group(1)) or m.group(2) or m.group(1)), text)


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("agents", "templates/notifications"),
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(cut=cut, day=day, oneline=oneline, label=label)
    return env


def event_text(kind: EventKind, **values: Any) -> str:
    """The one-line text of an event of this kind (templates are named after the kind)."""
    return oneline(environment().get_template(f"{kind.value}.txt.j2").render(**values))
