"""The App Home's "Calendar feed" button and its modal: my secret iCalendar URL, a new one, and launch feeds."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    MarkdownTextObject,
    Option,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from blocks.text import escape, short_date, truncate
from storage.calendar import CalendarFeed
from storage.models import Launch

OPTION_LIMIT = 75
HOW_TO = ("Add it in Google Calendar (*Other calendars → From URL*) or Outlook (*Add calendar → Subscribe from "
          "web*): your open tasks' due dates, your launches' milestones and target dates, kept up to date.")
SHOWN_ONCE = ("Copy it now: Liftoff keeps only a fingerprint of it and cannot show it again. Anyone with the URL "
              "sees these deadlines; if it leaks, make a new one.")


class CalendarId(StrEnum):
    OPEN = "calendar_feed_open"
    CALLBACK = "calendar_feed"
    NEW_URL = "calendar_feed_new"
    TURN_OFF = "calendar_feed_off"
    LAUNCH = "calendar_feed_launch"


@dataclass(frozen=True)
class CalendarModal:
    """What the modal shows: my live feed (if any), a URL just made (once), and the launches I may subscribe to."""

    feed: CalendarFeed | None
    launches: list[Launch]
    new_url: str | None = None
    launch_url: tuple[str, str] | None = None  # (launch name, URL) just made
    notice: str | None = None
    public_url_set: bool = True


def calendar_button() -> ActionsBlock:
    return ActionsBlock(block_id="home_calendar_feed", elements=[
        ButtonElement(text="Calendar feed", action_id=CalendarId.OPEN, value="open"),
    ])


def _section(text: str, **kwargs: Any) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=truncate(text, 3000)), **kwargs)


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=truncate(text, 3000))])


def _url_blocks(title: str, url: str) -> list[Block]:
    return [_section(f"*{escape(title)}*\n```{url}```"), _context(SHOWN_ONCE)]


def _my_feed_blocks(modal: CalendarModal) -> list[Block]:
    if modal.new_url:
        return _url_blocks("Your calendar URL", modal.new_url)
    if modal.feed is not None:
        since = short_date(modal.feed.created_at.date())
        return [_section(f"You have a calendar URL, made {since}. Lost it? Make a new one: the old one stops "
                         "working.")]
    return [_section("You have no calendar URL yet.")]


def _buttons(modal: CalendarModal) -> ActionsBlock:
    live = modal.feed is not None or modal.new_url is not None
    new = ButtonElement(text="New URL" if live else "Make my URL", action_id=CalendarId.NEW_URL, value="person",
                        style=None if live else "primary")
    elements = [new]
    if live:
        new.confirm = ConfirmObject(title="Make a new URL?", text="Calendars using the current URL stop updating.",
                                    confirm="New URL", deny="Cancel")
        elements.append(ButtonElement(
            text="Turn off", action_id=CalendarId.TURN_OFF, value="person", style="danger",
            confirm=ConfirmObject(title="Turn the feed off?", text="Calendars using your URL stop updating.",
                                  confirm="Turn off", deny="Cancel"),
        ))
    return ActionsBlock(block_id="calendar_person", elements=elements)


def _launch_blocks(modal: CalendarModal) -> list[Block]:
    if not modal.launches:
        return []
    options = [Option(value=str(launch.id), label=truncate(launch.name, OPTION_LIMIT)) for launch in modal.launches]
    pick = StaticSelectElement(action_id=CalendarId.LAUNCH, placeholder="Pick a launch", options=options)
    blocks: list[Block] = [_section("*A launch's calendar*: its open tasks' due dates, milestones and target date. "
                                    "A new URL for a launch replaces your previous one for it.",
                                    block_id="calendar_launch", accessory=pick)]
    if modal.launch_url:
        blocks += _url_blocks(f"{modal.launch_url[0]}: calendar URL", modal.launch_url[1])
    return blocks


def calendar_modal(modal: CalendarModal) -> dict[str, Any]:
    blocks: list[Block] = []
    if modal.notice:
        blocks.append(_context(modal.notice))
    blocks += [_section(HOW_TO), *_my_feed_blocks(modal), _buttons(modal), *_launch_blocks(modal)]
    if not modal.public_url_set:
        blocks.append(_context("`LIFTOFF_PUBLIC_URL` is not set, so the URL has no host yet: put the public "
                               "address of Liftoff in its place."))
    return View(type="modal", callback_id=CalendarId.CALLBACK, title="Calendar feed", close="Done",
                blocks=blocks).to_dict()
