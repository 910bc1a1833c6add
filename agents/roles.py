"""Planner roles, and how a Slack profile title maps to one."""

from __future__ import annotations

import re

# Ordered: the first pattern that matches a title wins ("Engineering Manager" is eng_lead, not engineer).
TITLE_PATTERNS: tuple[tuple[str, str], ...] = (
    ("pm", r"product manag|\bpm\b|product owner|program manag|project manag|head of product|vp product"),
    (
        "eng_lead",
        r"engineering manag|eng(ineering)? lead|tech(nical)? lead|\bcto\b|vp eng|head of eng|architect|platform lead",
    ),
    ("qa", r"\bqa\b|quality|\btest"),
    ("sre", r"\bsre\b|reliability|devops|infrastructure|platform ops|operations engineer"),
    ("security", r"secur"),
    ("data", r"\bdata\b|analyst|analytics|scientist"),
    ("designer", r"design|\bux\b|\bui\b"),
    ("docs", r"technical writer|documentation|\bdocs\b|content designer"),
    ("legal", r"legal|counsel|lawyer|attorney|privacy|compliance"),
    ("finance", r"financ|billing|revenue ops|accountant|\bcfo\b|controller"),
    ("partnerships", r"partner|alliances|business develop|\bbd\b"),
    ("sales", r"sales|account exec|\bae\b|account manag|\bsdr\b|\bbdr\b"),
    ("support", r"support|customer success|\bcs\b|help ?desk|customer care"),
    ("marketing", r"market|growth|brand|\bpr\b|communications|content|social|community"),
    ("engineer", r"engineer|developer|programmer|\bswe\b|\bios\b|android|frontend|backend|full.?stack"),
)


def role_from_title(title: str | None) -> str:
    """The planner role a Slack profile title suggests; 'member' when nothing fits."""
    text = (title or "").lower()
    for role, pattern in TITLE_PATTERNS:
        if re.search(pattern, text):
            return role
    return "member"
