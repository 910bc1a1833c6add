"""Bolt listeners grouped by surface; each module has register(app)."""

from slack_bolt.async_app import AsyncApp

from handlers import (
    brief_submission,
    calendar,
    errors,
    home,
    launch_actions,
    launch_command,
    launch_status,
    notification_settings,
    okr_command,
    replan,
    review_actions,
    task_actions,
    tracker_connect,
    uninstall,
)


def register_all(app: AsyncApp) -> None:
    for module in (errors, launch_command, brief_submission, launch_actions, home, okr_command, uninstall):
        module.register(app)
    for module in (launch_status, task_actions, replan, review_actions):
        module.register(app)
    notification_settings.register(app)
    tracker_connect.register(app)
    calendar.register(app)
