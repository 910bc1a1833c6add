"""A task's owner in a tracker: the owner's email resolved to the tracker's own user id, once per email per client.

The email is personal data. It is sent only as the lookup key (a GraphQL variable, a query parameter, or a path
segment where the API takes it there) and never kept in an error: a failed lookup's message has it replaced, since
errors end up in the outbox row and on the health card. No match, or a lookup the tracker refuses (a 4xx that is
not about the credentials), is None: the item stays unassigned and the sync goes on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from integrations.tracker_http import RequestError, TrackerError

log = logging.getLogger(__name__)

Lookup = Callable[[str], Awaitable[str | None]]
HIDDEN = "<owner email>"


class OwnerDirectory:
    """Email → the tracker's user id (None: no such user), each email looked up once; concurrent workers asking
    for one email wait for the one lookup. A lookup that fails is not remembered: the next operation asks again."""

    def __init__(self, lookup: Lookup) -> None:
        self._lookup = lookup
        self._found: dict[str, str | None] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.lookups = 0

    async def user_id(self, email: str | None) -> str | None:
        key = (email or "").strip().casefold()
        if not key:
            return None
        if key in self._found:
            return self._found[key]
        async with self._locks.setdefault(key, asyncio.Lock()):
            if key not in self._found:
                self.lookups += 1
                try:
                    self._found[key] = await self._lookup(key)
                except RequestError as exc:
                    # Refused for this request (e.g. no permission to browse people): unassigned, not a failure.
                    log.warning("owner lookup refused, the item stays unassigned: %s", hide_email(exc, key))
                    self._found[key] = None
                except TrackerError as exc:  # transient (retried with the operation) or permanent (stops it)
                    raise hide_email(exc, key) from None
        return self._found[key]


def hide_email(exc: TrackerError, email: str) -> TrackerError:
    """The same error (type, status, Retry-After) with the email taken out of its message."""
    message = str(exc)
    for form in {email, quote(email, safe=""), quote(email, safe="@")}:
        message = message.replace(form, HIDDEN)
    exc.args = (message,)
    return exc
