"""The scope every repository filters by: no query reaches another workspace."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Scope:
    workspace_id: str
    user_id: str | None = None
