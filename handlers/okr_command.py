"""/okr: declared in the manifest; this build answers honestly until OKR tracking lands."""

from __future__ import annotations

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

NOT_YET = (
    "OKR tracking is not switched on in this version of Liftoff yet. "
    "Launch planning works today: try `/launch new`."
)


async def on_okr(ack: AsyncAck, respond: AsyncRespond) -> None:
    await ack()
    await respond(response_type="ephemeral", text=NOT_YET)


def register(app: AsyncApp) -> None:
    app.command("/okr")(on_okr)
