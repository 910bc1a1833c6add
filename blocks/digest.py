"""The weekly digest DM and the grouped notification message, within Slack's limits at any data size.

Blocks are plain dicts here: ten thousand digests are built in one sweep, and dicts cost a fraction of the
slack_sdk model objects. Every list is cut with "…and N more"; every text is cut to its field's limit. At most
1 + 4 + 2 * MAX_CHECKINS + 4 + 1 blocks (well under 50), and the fallback text stays under 4,000 characters.
"""

from __future__ import annotations

from typing import Any

from agents.digest import Digest, KrLine, TaskLine
from agents.notification import EVENT_LABELS, EventKind
from blocks.okr_ids import OkrAction
from blocks.text import escape, short_date, truncate

SECTION_LIMIT = 3000
FALLBACK_LIMIT = 3000
MAX_LINES = 8
MAX_CHECKINS = 5
MAX_EVENTS = 10


def _section(text: str, block_id: str | None = None, accessory: dict[str, Any] | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "section", "text": {"type": "mrkdwn", "text": truncate(text, SECTION_LIMIT)}}
    if block_id:
        block["block_id"] = block_id
    if accessory:
        block["accessory"] = accessory
    return block


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": truncate(text, SECTION_LIMIT)}]}


def _lines(title: str, lines: list[str], more_hint: str = "") -> str:
    shown = [f"• {line}" for line in lines[:MAX_LINES]]
    if len(lines) > MAX_LINES:
        shown.append(f"…and {len(lines) - MAX_LINES} more{more_hint}")
    return f"*{title}*\n" + "\n".join(shown)


def _task(line: TaskLine) -> str:
    blocked = " :no_entry: blocked" if line.blocked else ""
    return f"{escape(truncate(line.title, 150))} · _{escape(truncate(line.launch, 60))}_ · " \
           f"due {short_date(line.due)}{blocked}"


def _kr(line: KrLine) -> dict[str, Any]:
    last = short_date(line.last_checkin_on) if line.last_checkin_on else "never"
    text = f"*{escape(line.key)}* {escape(truncate(line.title, 150))}\n{round(100 * line.progress)}% · " \
           f"{line.status.replace('_', ' ')} · last check-in {last}"
    button = {"type": "button", "action_id": OkrAction.CHECK_IN, "value": str(line.kr_id),
              "text": {"type": "plain_text", "text": "Check in"}}
    return _section(text, block_id=f"digest_kr:{line.kr_id}", accessory=button)


def digest_message(digest: Digest) -> dict[str, Any]:
    """The digest DM: blocks plus a short fallback text (notifications, email subject)."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": f"Your week · {digest.week}"}},
    ]
    if digest.overdue:
        blocks.append(_section(_lines(":warning: Overdue", [_task(t) for t in digest.overdue],
                                      " on your Home tab"), block_id="digest_overdue"))
    if digest.due_this_week:
        blocks.append(_section(_lines("Due this week", [_task(t) for t in digest.due_this_week],
                                      " on your Home tab"), block_id="digest_due"))
    if digest.launches:
        lines = [f"*{escape(truncate(launch.name, 80))}* · {launch.state.replace('_', ' ')} · "
                 f"{launch.percent_done}% done · target {short_date(launch.target_date)}" for launch in digest.launches]
        blocks.append(_section(_lines("Launches you are on", lines), block_id="digest_launches"))
    if digest.checkins:
        blocks.append(_section("*Key results waiting for a check-in*", block_id="digest_checkins"))
        blocks += [_kr(line) for line in digest.checkins[:MAX_CHECKINS]]
        if len(digest.checkins) > MAX_CHECKINS:
            blocks.append(_context(f"…and {len(digest.checkins) - MAX_CHECKINS} more: `/okr update` lists them all."))
    if digest.at_risk:
        blocks.append(_section(_lines(":rotating_light: At risk, and why", [escape(r) for r in digest.at_risk]),
                               block_id="digest_risks"))
    if digest.department:
        blocks.append(_section(f"*Your department this week*\n```{escape(truncate(digest.department, 2900))}```",
                               block_id="digest_department"))
    if digest.held:
        blocks.append(_section(_lines("Also for you (held back to keep your DMs quiet)",
                                      [escape(h) for h in digest.held]), block_id="digest_held"))
    if len(blocks) == 1:
        blocks.append(_section("_Nothing needs you this week. Enjoy it._", block_id="digest_empty"))
    blocks.append(_context("Change when this comes, quiet hours and what you hear about: "
                           "*Notification settings* on the Liftoff Home tab."))
    counts = f"{len(digest.overdue)} overdue, {len(digest.due_this_week)} due this week, " \
             f"{len(digest.checkins)} check-ins, {len(digest.at_risk)} at risk"
    return {"text": truncate(f"Your week · {digest.week}: {counts}", FALLBACK_LIMIT), "blocks": blocks}


def notification_message(kind: str, events: list[dict[str, str]]) -> dict[str, Any]:
    """One message for one or more related events (grouped within a few minutes)."""
    label = EVENT_LABELS.get(EventKind(kind), kind) if kind in EventKind._value2member_map_ else kind
    lines = [escape(str(e.get("text", ""))) for e in events]
    if len(lines) == 1:
        text = f"*{label}*\n{lines[0]}"
    else:
        shown = [f"• {line}" for line in lines[:MAX_EVENTS]]
        if len(lines) > MAX_EVENTS:
            shown.append(f"…and {len(lines) - MAX_EVENTS} more on your Home tab")
        text = f"*{label}* and {len(lines) - 1} related update(s)\n" + "\n".join(shown)
    return {"text": truncate(f"{label}: {lines[0] if lines else ''}", FALLBACK_LIMIT),
            "blocks": [_section(text, block_id="notification")]}


def plain_text(message: dict[str, Any]) -> str:
    """The message as plain text, for email: each block's text on its own paragraph."""
    parts = []
    for block in message.get("blocks", []):
        if "text" in block and isinstance(block["text"], dict):
            parts.append(str(block["text"].get("text", "")))
        for element in block.get("elements", []) or []:
            if isinstance(element, dict) and element.get("type") == "mrkdwn":
                parts.append(str(element.get("text", "")))
    text = "\n\n".join(parts) or str(message.get("text", ""))
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
