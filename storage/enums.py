"""Statuses and roles stored in the database; one definition used by every room."""

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    PM = "pm"
    MEMBER = "member"


class LaunchStatus(StrEnum):
    DRAFT = "draft"
    PLANNING = "planning"
    PLANNED = "planned"
    FAILED = "failed"


class TaskStatus(StrEnum):
    TODO = "todo"
    IN_PROGRESS = "in_progress"
    BLOCKED = "blocked"
    DONE = "done"


class ReviewState(StrEnum):
    """A flagged task's review: open until the launch's PM or an admin decides."""

    OPEN = "open"
    APPROVED = "approved"
    REJECTED = "rejected"
    EDITED = "edited"


class ReviewDestination(StrEnum):
    THREAD = "thread"
    DM = "dm"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class OutboxKind(StrEnum):
    """What an outbox row asks a destination to do; the drain renders it at send time."""

    LAUNCH_PLAN = "launch_plan"
    LAUNCH_FAILED = "launch_failed"
    GUARDRAIL_ALERT = "guardrail_alert"
    PLAN_DIFF = "plan_diff"  # what a re-plan changed, in the launch thread
    REPLAN_FAILED = "replan_failed"  # a re-plan that could not be made, to the PM
    LAUNCH_RETRO = "launch_retro"  # the post-launch retro, in the launch channel
    REVIEW_REQUEST = "review_request"  # the one review message of a plan version's flagged tasks, to the PM
    CRITICAL_BLOCKED = "critical_blocked"  # a blocked task on the critical path, to the launch's PM
    TRACKER_LAUNCH = "tracker_launch"  # sync a launch's tasks and dependencies to its tracker
    TRACKER_TASK = "tracker_task"  # sync one task (created, changed or removed) to its launch's tracker
    TRACKER_STOPPED = "tracker_stopped"  # a tracker connection stopped on an error that will not heal, to Admins
    HEALTH_CARD_SHARE = "health_card_share"  # a launch's health card, shared to its channel from the button


class Destination(StrEnum):
    SLACK = "slack"


class LaunchType(StrEnum):
    SOFTWARE_RELEASE = "software_release"
    MOBILE_RELEASE = "mobile_release"
    WEB_RELEASE = "web_release"
    PLATFORM_RELEASE = "platform_release"
    PRICING_CHANGE = "pricing_change"
    MARKETING_CAMPAIGN = "marketing_campaign"
    PARTNER_INTEGRATION = "partner_integration"

    @property
    def label(self) -> str:
        return LAUNCH_TYPE_LABELS[self]


LAUNCH_TYPE_LABELS = {
    LaunchType.SOFTWARE_RELEASE: "Software release",
    LaunchType.MOBILE_RELEASE: "Mobile app release",
    LaunchType.WEB_RELEASE: "Web release",
    LaunchType.PLATFORM_RELEASE: "Platform / API release",
    LaunchType.PRICING_CHANGE: "Pricing and packaging change",
    LaunchType.MARKETING_CAMPAIGN: "Marketing campaign",
    LaunchType.PARTNER_INTEGRATION: "Partner integration",
}
