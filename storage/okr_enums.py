"""OKR levels, visibility, approval states, statuses and progress sources, stored as strings."""

from enum import StrEnum


class ObjectiveLevel(StrEnum):
    COMPANY = "company"
    DEPARTMENT = "department"
    TEAM = "team"
    INDIVIDUAL = "individual"


class Visibility(StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"


class ApprovalState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    RETURNED = "returned"


class OkrStatus(StrEnum):
    """Ordered from best to worst: an objective takes the worst status of its key results."""

    DONE = "done"
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    OFF_TRACK = "off_track"

    @property
    def severity(self) -> int:
        return STATUS_SEVERITY[self]

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


STATUS_SEVERITY = {OkrStatus.DONE: 0, OkrStatus.ON_TRACK: 1, OkrStatus.AT_RISK: 2, OkrStatus.OFF_TRACK: 3}


class ProgressSource(StrEnum):
    MANUAL = "manual"
    LAUNCH = "launch"
    JIRA = "jira"
    METRIC = "metric"


LIFTOFF_AUTHOR = "Liftoff"


class OkrOutboxKind(StrEnum):
    """OKR notifications written to the outbox with the change (rendered by bot/okr_notices.py at send time)."""

    APPROVAL_REQUEST = "okr_approval_request"  # to each approver of a submitted objective
    DECISION = "okr_decision"  # approved or returned (with the reason), to the objective's owner
    DECISION_SHOWN = "okr_decision_shown"  # the approver's request message, edited in place to show the decision
    COMMENT = "okr_comment"  # a comment, to each person it mentions and the owner


class OkrAuditAction(StrEnum):
    """What the audit log calls each OKR change (agents/okr_audit.py appends them)."""

    OBJECTIVE_SUBMITTED = "okr.objective_submitted"
    OBJECTIVE_APPROVED = "okr.objective_approved"
    OBJECTIVE_RETURNED = "okr.objective_returned"
    CHECKED_IN = "okr.checked_in"
    COMMENTED = "okr.commented"
    IMPORTED = "okr.imported"
    ROLE_SET = "okr.role_set"
    SETTINGS_CHANGED = "okr.settings_changed"
    # The action agents.access.record_denial writes too, so one query finds every refusal.
    DENIED = "access.denied"
