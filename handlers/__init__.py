"""Bolt listeners grouped by surface; each module has register(app)."""

from slack_bolt.async_app import AsyncApp

from handlers import brief_submission, errors, home, launch_actions, launch_command, okr_command, uninstall


def register_all(app: AsyncApp) -> None:
    for module in (errors, launch_command, brief_submission, launch_actions, home, okr_command, uninstall):
        module.register(app)
