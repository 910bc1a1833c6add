"""Permissions: every command, button and modal submission asks `decide` before it acts.

Each rule module registers its actions when imported here; add one import line per module.
"""

from agents.policy import launches, okrs
from agents.policy.core import ALLOW, Actor, Decision, decide, deny
from agents.policy.launches import Action

__all__ = ["ALLOW", "Action", "Actor", "Decision", "decide", "deny", "launches", "okrs"]
