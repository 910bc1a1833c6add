"""A stand-in for Slack: a fake Web API server, a simulated Slack client, and a Block Kit text renderer."""

from bot.standin.api import SlackStandIn
from bot.standin.records import RecordedCall, RejectedPayload
from bot.standin.render import render_blocks, render_message, render_view
from bot.standin.simulator import Ack, SimulatorError, SlackSimulator

__all__ = [
    "Ack",
    "RecordedCall",
    "RejectedPayload",
    "SimulatorError",
    "SlackSimulator",
    "SlackStandIn",
    "render_blocks",
    "render_message",
    "render_view",
]
