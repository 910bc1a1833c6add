"""Callback ids, action ids and field names of the OKR surfaces."""

from enum import StrEnum


class OkrCallback(StrEnum):
    NEW_OBJECTIVE = "okr_new_objective"
    UPDATE = "okr_update"
    COMMENT = "okr_comment"
    RETURN = "okr_return"


class OkrField(StrEnum):
    """Block ids of the OKR modals; each input's action id is the same name."""

    TITLE = "title"
    LEVEL = "level"
    PERIOD = "period"
    PARENT = "parent"
    DEPARTMENT = "department"
    TEAM = "team"
    VISIBILITY = "visibility"
    KR_TITLE = "kr_title"
    KR_START = "kr_start"
    KR_TARGET = "kr_target"
    KR_UNIT = "kr_unit"
    COMMENT = "comment"
    REASON = "reason"
    NOTE = "note"


class OkrAction(StrEnum):
    APPROVE = "okr_approve"
    RETURN = "okr_return"
    COMMENT = "okr_comment"
    CHECK_IN = "okr_check_in"
    MORE = "okr_more"


UPDATE_VALUE_PREFIX = "value:"
