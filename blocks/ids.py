"""Callback and action ids shared by the views that send them and the listeners that take them."""

from enum import StrEnum
from typing import Any

MAX_ROW_ID = 2**31  # ids are PostgreSQL integers


def row_id(value: Any) -> int | None:
    """The row id a button value or a view's private_metadata carries; None unless a positive integer id."""
    try:
        number = int(str(value or "").strip())
    except ValueError:
        return None
    return number if 0 < number < MAX_ROW_ID else None


class CallbackId(StrEnum):
    LAUNCH_BRIEF = "launch_brief"
    LAUNCH_REPLAN = "launch_replan"  # the brief modal, pre-filled, for a new plan version
    TASK_BLOCK = "task_block"  # the "why is it blocked?" modal
    REVIEW_EDIT = "review_edit"  # the edit-a-flagged-task modal


class BriefField(StrEnum):
    """Block ids of the brief modal; each input's action id is the same name."""

    NAME = "name"
    BRIEF = "brief"
    TARGET_DATE = "target_date"
    TEAM = "team"
    CHANNEL = "channel"
    LAUNCH_TYPE = "launch_type"
    TRACKER = "tracker"  # only when the workspace has a tracker connection


class ReviewEditField(StrEnum):
    """Block ids of the edit-a-flagged-task modal (each input's action id is the same name); agents/review_edit.py
    keys its field errors by the same names."""

    TITLE = "title"
    OWNER = "owner"
    ESTIMATE = "estimate"
    DUE = "due"
    DEPENDENCIES = "dependencies"


class ActionId(StrEnum):
    SHOW_HEALTH = "launch_show_health"
    SHARE_HEALTH = "launch_share_health"
    REPLAN = "launch_replan"
    # Task updates (DM and Home tab); the value is the task id.
    TASK_DONE = "task_done"
    TASK_START = "task_start"
    TASK_BLOCK = "task_block"
    # Review of flagged tasks; the value is the task id, or "launch_id:version:page" for a page.
    REVIEW_APPROVE = "review_approve"
    REVIEW_REJECT = "review_reject"
    REVIEW_EDIT = "review_edit"
    REVIEW_APPROVE_PAGE = "review_approve_page"
    REVIEW_REJECT_PAGE = "review_reject_page"
    REVIEW_PAGE = "review_page"
    # App Home
    HOME_MORE = "home_more"
    ROLE_GRANT_PM = "role_grant_pm"
    ROLE_REVOKE_PM = "role_revoke_pm"

