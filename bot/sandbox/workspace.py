"""The sandbox workspace: its people (with titles and time zones) and channels, as the stand-in serves them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

TEAM_ID = "T0SANDBOX"
TEAM_NAME = "Northwind Labs"
GENERAL = "C0GENERAL"
LAUNCH_CHANNEL = "C0LAUNCH"
DEFAULT_VIEWER = "U100"


@dataclass(frozen=True)
class Person:
    user_id: str
    name: str
    title: str
    tz: str
    tz_label: str
    tz_offset: int
    slack_admin: bool = False  # Slack workspace owners and admins are Liftoff admins on first sight

    def as_slack_user(self) -> dict[str, Any]:
        handle = self.name.split()[0].lower()
        email = f"{handle}@northwind.example"
        return {
            "id": self.user_id,
            "name": handle,
            "real_name": self.name,
            "tz": self.tz,
            "tz_label": self.tz_label,
            "tz_offset": self.tz_offset,
            "is_admin": self.slack_admin,
            "profile": {"title": self.title, "real_name": self.name, "display_name": handle, "email": email},
        }


# The launch team first (their titles decide who gets which planned tasks), then the leadership that owns OKRs.
PEOPLE: tuple[Person, ...] = (
    Person("U100", "Maya Chen", "Senior Product Manager", "America/New_York", "Eastern Daylight Time", -14400, True),
    Person("U101", "Omar Haddad", "Engineering Lead", "Europe/Berlin", "Central European Summer Time", 7200),
    Person("U102", "Lucia Romero", "Software Engineer", "Europe/Madrid", "Central European Summer Time", 7200),
    Person("U103", "Jonas Berg", "Software Engineer", "Europe/Stockholm", "Central European Summer Time", 7200),
    Person("U104", "Ife Adeyemi", "Product Designer", "Africa/Lagos", "West Africa Time", 3600),
    Person("U105", "Tom Becker", "QA Engineer", "Europe/Berlin", "Central European Summer Time", 7200),
    Person("U106", "Sara Kim", "Product Marketing Manager", "Asia/Seoul", "Korea Standard Time", 32400),
    Person("U107", "Ravi Patel", "Support Lead", "Asia/Kolkata", "India Standard Time", 19800),
    Person("U109", "Dana Whitfield", "CEO", "America/Los_Angeles", "Pacific Daylight Time", -25200, True),
    Person("U110", "Marcus Webb", "CTO", "America/Los_Angeles", "Pacific Daylight Time", -25200),
    Person("U111", "Sofia Alvarez", "Engineering Manager", "America/Mexico_City", "Central Standard Time", -21600),
    Person("U112", "Grace Liu", "Platform Lead", "America/Toronto", "Eastern Daylight Time", -14400),
    Person("U113", "Kenji Mori", "Mobile Engineer", "Asia/Tokyo", "Japan Standard Time", 32400),
    Person("U120", "Amara Osei", "VP People", "Europe/London", "British Summer Time", 3600),
    Person("U130", "Chris Park", "VP Sales", "America/Chicago", "Central Daylight Time", -18000),
    Person("U131", "Julia Brandt", "Enterprise AE Lead", "Europe/Berlin", "Central European Summer Time", 7200),
    Person("U140", "Nadia Rossi", "VP Marketing", "Europe/Rome", "Central European Summer Time", 7200),
    Person("U141", "Paolo Greco", "Growth Lead", "Europe/Rome", "Central European Summer Time", 7200),
    Person("U150", "Ben Sato", "Head of Customer Success", "Australia/Sydney", "Australian Eastern Time", 36000),
)

CHANNELS: tuple[tuple[str, str, str], ...] = (
    (GENERAL, "general", "Company-wide announcements"),
    (LAUNCH_CHANNEL, "launch-smart-search", "Smart Search 1.0: plan, status and milestones"),
    ("C0MOBILE", "launch-mobile-v2", "Mobile App v2.0"),
    ("C0OKRS", "okrs", "Objectives, key results and check-ins"),
)

SLASH_COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("/launch", "new | status [NAME] | done|start|block KEY | replan NAME | retro NAME | list | help",
     "Plan a launch, or see its health"),
    ("/okr", "new | update | list | tree | ask QUESTION | help", "Create, check in on and ask about OKRs"),
)


def slack_users() -> list[dict[str, Any]]:
    return [person.as_slack_user() for person in PEOPLE]


def slack_channels() -> list[dict[str, Any]]:
    return [{"id": cid, "name": name, "topic": {"value": topic}} for cid, name, topic in CHANNELS]
