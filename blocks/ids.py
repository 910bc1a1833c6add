"""Callback and action ids shared by the views that send them and the listeners that take them."""

from enum import StrEnum


class CallbackId(StrEnum):
    LAUNCH_BRIEF = "launch_brief"


class BriefField(StrEnum):
    """Block ids of the brief modal; each input's action id is the same name."""

    NAME = "name"
    BRIEF = "brief"
    TARGET_DATE = "target_date"
    TEAM = "team"
    CHANNEL = "channel"
    LAUNCH_TYPE = "launch_type"


class ActionId(StrEnum):
    SHOW_HEALTH = "launch_show_health"

