"""The one place that decides permissions: who (Actor) may do what (action) to which object.

Rules are pure functions registered per action by the rule modules (launches.py, ...). An action
without a rule is denied: the policy fails closed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from storage.enums import Role


@dataclass(frozen=True)
class Actor:
    workspace_id: str
    user_id: str
    role: Role = Role.MEMBER

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""  # for a person: why not, and what to do about it

    def __bool__(self) -> bool:
        return self.allowed


ALLOW = Decision(True)
Rule = Callable[..., Decision]
_RULES: dict[str, Rule] = {}


def rule(*actions: str) -> Callable[[Rule], Rule]:
    """Register a rule for actions; a rule takes (actor, **objects) and returns a Decision."""

    def register(func: Rule) -> Rule:
        for action in actions:
            if action in _RULES:
                raise ValueError(f"two rules for {action!r}")
            _RULES[action] = func
        return func

    return register


def deny(reason: str) -> Decision:
    return Decision(False, reason)


def decide(actor: Actor, action: str, **objects: Any) -> Decision:
    """May actor do action (to the objects named, e.g. launch=..., task=...)?"""
    found = _RULES.get(str(action))
    if found is None:
        return deny("Liftoff does not know that action, so it is not allowed.")
    for value in objects.values():
        # Whatever a payload named, an object from another workspace is never within reach.
        if value is not None and getattr(value, "workspace_id", actor.workspace_id) != actor.workspace_id:
            return deny("That is not in this workspace.")
    return found(actor, **objects)
