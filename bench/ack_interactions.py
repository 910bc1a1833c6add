"""The launch surfaces' clicks and modal submissions under load, for bench/ack_latency.py.

Once plans are posted, each launch's PM opens their Home tab and asks for the health card; then the
buttons found there and in the channels (task Start / Done / Blocked, review Approve / Reject / Edit,
page decisions, Show more, Show health, Share to channel, Re-plan) are clicked, `concurrency` at a
time, as Slack would send them. A button that opens a modal (Blocked, Edit, Re-plan) is followed by
that modal's submission, timed on its own line.
"""

from __future__ import annotations

import asyncio
import gc
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from blocks.ids import ActionId
from blocks.task_blocks import BlockReasonField
from bot.standin.api import SlackStandIn
from bot.standin.simulator import Ack, PreparedClick, SlackSimulator
from bot.standin.state import SimulatorError, elements_of

CLICKED = (
    ActionId.TASK_START, ActionId.TASK_DONE, ActionId.TASK_BLOCK, ActionId.HOME_MORE,
    ActionId.REVIEW_APPROVE, ActionId.REVIEW_REJECT, ActionId.REVIEW_EDIT, ActionId.REVIEW_APPROVE_PAGE,
    ActionId.SHOW_HEALTH, ActionId.SHARE_HEALTH, ActionId.REPLAN,
)
# The modal each of these buttons opens, and what the person types into it (the rest keeps its initial value).
MODAL_VALUES: dict[str, dict[str, Any]] = {
    ActionId.TASK_BLOCK: {BlockReasonField.REASON: "Waiting on the legal review of the pricing page."},
    ActionId.REVIEW_EDIT: {},
    ActionId.REPLAN: {},
}


@dataclass(frozen=True)
class Target:
    """One button somewhere the person can see it: in a message (channel or ephemeral) or a view."""

    user_id: str
    action_id: str
    value: Any
    block_id: str | None
    message: dict[str, Any] | None = None
    channel_id: str | None = None
    view: dict[str, Any] | None = None


def buttons(blocks: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    for block in blocks:
        for element in elements_of(block):
            if element.get("type") == "button" and element.get("action_id") in CLICKED:
                yield block.get("block_id", ""), element


def targets_for(standin: SlackStandIn, user_id: str, channel_id: str) -> list[Target]:
    found: list[Target] = []
    home = standin.home(user_id)
    if home is not None:
        for block_id, element in buttons(home.get("blocks") or []):
            found.append(Target(user_id, element["action_id"], element.get("value"), block_id, view=home))
    dm = standin.directory.dm_id(user_id)
    for channel in (channel_id, dm):
        for message in standin.messages(channel):
            for block_id, element in buttons(message.get("blocks") or []):
                found.append(Target(user_id, element["action_id"], element.get("value"), block_id,
                                    message=message, channel_id=channel))
    for message in standin.ephemerals(user_id):
        for block_id, element in buttons(message.get("blocks") or []):
            found.append(Target(user_id, element["action_id"], element.get("value"), block_id,
                                message=message, channel_id=message.get("channel") or channel_id))
    return found


def schedule(targets: list[Target], count: int, kinds: tuple[str, ...] = CLICKED) -> list[Target]:
    """Up to `count` clicks of `kinds`, taking the kinds in turn so each kind is measured; each button once."""
    by_kind: dict[str, list[Target]] = defaultdict(list)
    seen: set[tuple[str, str, str]] = set()
    for target in targets:
        key = (target.user_id, target.action_id, str(target.value))
        if key not in seen:
            seen.add(key)
            by_kind[target.action_id].append(target)
    queues = [iter(by_kind[kind]) for kind in kinds if by_kind.get(kind)]
    chosen: list[Target] = []
    while queues and len(chosen) < count:
        for queue in list(queues):
            picked = next(queue, None)
            if picked is None:
                queues.remove(queue)
            elif len(chosen) < count:
                chosen.append(picked)
    return chosen


async def prepare(slack: SlackSimulator, standin: SlackStandIn, gate: asyncio.Semaphore,
                  people: list[tuple[str, str, str]]) -> list[Target]:
    """Each (user, channel, launch name): open the Home tab and ask for the health card; the buttons found."""

    async def look(user_id: str, channel_id: str, name: str) -> None:
        async with gate:
            await slack.open_home(user_id)
            await slack.slash_command(user_id, "/launch", f"status {name}", channel_id=channel_id)

    await asyncio.gather(*(look(*person) for person in people))
    await standin.wait_for(lambda: all(standin.home(u) is not None for u, _, _ in people), timeout=120)
    await standin.wait_for(lambda: all(standin.ephemerals(u) for u, _, _ in people), timeout=120)
    return [t for user_id, channel_id, _ in people for t in targets_for(standin, user_id, channel_id)]


@contextmanager
def collector_paused() -> Iterator[None]:
    """No garbage collection in the load generator while it times acks, as timeit does.

    It holds every call the stand-in recorded, hundreds of thousands of objects: one full collection paused it for
    300-500 ms, and every ack in flight then was counted that much late. It collects before and after instead."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect()


async def run_clicks(slack: SlackSimulator, standin: SlackStandIn, gate: asyncio.Semaphore,
                     clicks: list[Target]) -> tuple[dict[str, list[Ack]], list[Target]]:
    """Click them all, `gate` at a time; follow modal-opening buttons with the modal's submission.
    Returns the acks by kind, and the targets whose button could not be found.

    Every click's request is built before the first is sent, as the brief submissions are: building a payload
    that carries a whole Home view or message costs the load generator milliseconds on the cores it shares with
    the app, and would otherwise be counted against the acks it delays. A Home click is thus made on the Home as
    it was when the clicks began, as a person does who clicks a moment before it is rebuilt."""
    acks: dict[str, list[Ack]] = defaultdict(list)
    gone: list[Target] = []
    prepared: dict[int, PreparedClick] = {}
    for i, target in enumerate(clicks):
        try:
            prepared[i] = slack.prepare_click(target.user_id, action_id=target.action_id, value=target.value,
                                              block_id=target.block_id, message=target.message,
                                              channel_id=target.channel_id, view=target.view)
        except SimulatorError:
            gone.append(target)
    # A person has one modal open at a time: their modal-opening clicks take turns.
    modal_turns: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def one(target: Target, click: PreparedClick) -> None:
        if target.action_id in MODAL_VALUES:
            async with modal_turns[target.user_id]:
                await send(target, click)
        else:
            await send(target, click)

    async def send(target: Target, click: PreparedClick) -> None:
        async with gate:
            ack = await slack.send_click(click)
        assert ack.status == 200, (target.action_id, ack.status, ack.body)
        acks[target.action_id].append(ack)
        values = MODAL_VALUES.get(target.action_id)
        if values is None:
            return
        trigger_id, response_url = ack.trigger_id, ack.response_url

        def answered() -> bool:  # a modal, or words instead (e.g. already decided) through the response_url
            return standin.view_opened_by(trigger_id) is not None or bool(
                response_url and standin.response_urls.uses(response_url))

        try:
            await standin.wait_for(answered, timeout=60)
        except Exception:  # no answer at all: nothing to submit
            return
        view = standin.view_opened_by(trigger_id)
        if view is None:  # answered in words: nothing to submit
            return
        async with gate:
            submitted = await slack.submit_view(target.user_id, view, values, require=False)
        assert submitted.status == 200, (target.action_id, submitted.status, submitted.body)
        acks[f"{target.action_id} submission"].append(submitted)

    with collector_paused():
        await asyncio.gather(*(one(clicks[i], click) for i, click in prepared.items()))
    return acks, gone
