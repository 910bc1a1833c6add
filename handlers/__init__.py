"""Bolt listeners grouped by surface; each module has register(app) or registers deferred buttons (deferred.py)."""

from slack_bolt.async_app import AsyncApp

from handlers import (
    brief_submission,
    calendar,
    deferred,
    errors,
    home,
    launch_command,
    notification_settings,
    okr_command,
    replan,
    review_actions,
    task_actions,
    tracker_connect,
    uninstall,
)


def register_all(app: AsyncApp) -> None:
    for module in (errors, launch_command, brief_submission, home, okr_command, uninstall):
        module.register(app)
    for module in (task_actions, replan, review_actions):
        module.register(app)
    deferred.register(app)  # the buttons answered in CLICK jobs (Approve, Done, Show health, Share, ...)
    notification_settings.register(app)
    tracker_connect.register(app)
    calendar.register(app)
