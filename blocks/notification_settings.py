"""The "Notification settings" button of the App Home and its modal: mute kinds, quiet hours, digest day and hour."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    CheckboxesElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from agents.notification import EVENT_LABELS
from blocks.text import escape, truncate
from storage.notifications import Notification, Preferences

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
NO_QUIET = "none"
NO_DIGEST = "off"


class SettingsId(StrEnum):
    OPEN = "notification_settings_open"
    CALLBACK = "notification_settings"
    MUTED = "muted"
    QUIET_START = "quiet_start"
    QUIET_END = "quiet_end"
    DIGEST_DAY = "digest_day"
    DIGEST_HOUR = "digest_hour"


def _hour_label(hour: int) -> str:
    return f"{hour:02d}:00"


def _hours(with_none: bool = False) -> list[Option]:
    options = [Option(value=NO_QUIET, label="No quiet hours")] if with_none else []
    return options + [Option(value=str(h), label=_hour_label(h)) for h in range(24)]


def _pick(options: list[Option], value: str) -> Option | None:
    return next((o for o in options if o.value == value), None)


def settings_button() -> ActionsBlock:
    return ActionsBlock(block_id="home_notification_settings", elements=[
        ButtonElement(text="Notification settings", action_id=SettingsId.OPEN, value="open"),
    ])


def settings_modal(prefs: Preferences, tz: str | None) -> dict[str, Any]:
    kinds = [Option(value=str(k), label=label) for k, label in EVENT_LABELS.items()]
    muted = [o for o in kinds if o.value in prefs.muted]
    start_options, end_options = _hours(with_none=True), _hours(with_none=True)
    days = [Option(value=NO_DIGEST, label="No weekly digest")] + \
        [Option(value=str(i), label=day) for i, day in enumerate(WEEKDAYS)]
    hours = _hours()
    start = _pick(start_options, NO_QUIET if prefs.quiet_start is None else str(prefs.quiet_start))
    end = _pick(end_options, NO_QUIET if prefs.quiet_end is None else str(prefs.quiet_end))
    day = _pick(days, str(prefs.digest_weekday) if prefs.digest_enabled else NO_DIGEST)
    blocks = [
        ContextBlock(elements=[MarkdownTextObject(
            text=f"Times are in your Slack timezone ({escape(tz or 'UTC')}). Urgent alerts (blocked on the critical "
                 "path, a launch at risk) always come through; at most 5 other DMs a day, the rest wait for your "
                 "digest.")]),
        InputBlock(block_id=SettingsId.MUTED, label="Don't notify me about", optional=True,
                   element=CheckboxesElement(action_id=SettingsId.MUTED, options=kinds,
                                             initial_options=muted or None)),
        InputBlock(block_id=SettingsId.QUIET_START, label="Quiet hours start",
                   element=StaticSelectElement(action_id=SettingsId.QUIET_START, options=start_options,
                                               initial_option=start)),
        InputBlock(block_id=SettingsId.QUIET_END, label="Quiet hours end",
                   element=StaticSelectElement(action_id=SettingsId.QUIET_END, options=end_options,
                                               initial_option=end)),
        InputBlock(block_id=SettingsId.DIGEST_DAY, label="Weekly digest day",
                   element=StaticSelectElement(action_id=SettingsId.DIGEST_DAY, options=days, initial_option=day)),
        InputBlock(block_id=SettingsId.DIGEST_HOUR, label="Weekly digest time",
                   element=StaticSelectElement(action_id=SettingsId.DIGEST_HOUR, options=hours,
                                               initial_option=_pick(hours, str(prefs.digest_hour)))),
    ]
    view = View(type="modal", callback_id=SettingsId.CALLBACK, title=PlainTextObject(text="Notifications"),
                submit=PlainTextObject(text="Save"), close=PlainTextObject(text="Cancel"), blocks=blocks)
    return view.to_dict()


def parse_settings(values: dict[str, Any]) -> tuple[Preferences | None, dict[str, str]]:
    """The submitted modal as Preferences, or field errors (block id -> message)."""

    def selected(block: str) -> str:
        return str(((values.get(block) or {}).get(block) or {}).get("selected_option", {}).get("value", ""))

    muted = {str(o.get("value")) for o in ((values.get(SettingsId.MUTED) or {}).get(SettingsId.MUTED) or {})
             .get("selected_options", []) or []}
    errors: dict[str, str] = {}
    unknown = muted - {str(k) for k in EVENT_LABELS}
    if unknown:
        errors[SettingsId.MUTED] = "Pick from the list."
    start, end = selected(SettingsId.QUIET_START), selected(SettingsId.QUIET_END)
    quiet: list[int | None] = []
    for block, value in ((SettingsId.QUIET_START, start), (SettingsId.QUIET_END, end)):
        if value == NO_QUIET or value == "":
            quiet.append(None)
        elif value.isdigit() and 0 <= int(value) < 24:
            quiet.append(int(value))
        else:
            errors[block] = "Pick an hour."
            quiet.append(None)
    if not errors and (quiet[0] is None) != (quiet[1] is None):
        errors[SettingsId.QUIET_END if quiet[1] is None else SettingsId.QUIET_START] = \
            "Pick both a start and an end, or \"No quiet hours\" for both."
    elif not errors and quiet[0] is not None and quiet[0] == quiet[1]:
        errors[SettingsId.QUIET_END] = "The end must differ from the start."
    day, hour = selected(SettingsId.DIGEST_DAY), selected(SettingsId.DIGEST_HOUR)
    if day != NO_DIGEST and not (day.isdigit() and 0 <= int(day) < 7):
        errors[SettingsId.DIGEST_DAY] = "Pick a day."
    if not (hour.isdigit() and 0 <= int(hour) < 24):
        errors[SettingsId.DIGEST_HOUR] = "Pick a time."
    if errors:
        return None, errors
    return Preferences(muted=frozenset(muted), quiet_start=quiet[0], quiet_end=quiet[1],
                       digest_weekday=int(day) if day != NO_DIGEST else 0, digest_hour=int(hour),
                       digest_enabled=day != NO_DIGEST), {}


def undelivered_blocks(rows: list[Notification]) -> list[Any]:
    """Messages Slack and email could not deliver for an hour: kept here so nothing is lost."""
    if not rows:
        return []
    lines = []
    for row in rows:
        if row.kind == "weekly_digest":
            lines.append(f"• Your weekly digest ({escape(str(row.payload.get('week', '')))})")
        else:
            events = row.payload.get("events") or [{}]
            lines.append(f"• {escape(truncate(str(events[0].get('text', row.kind)), 200))}")
    text = "*:warning: Messages I could not deliver*\n" + "\n".join(lines)
    return [SectionBlock(block_id="home_undelivered", text=MarkdownTextObject(text=truncate(text, 3000)))]
