"""A circuit breaker per provider: after N failures in a row the provider is skipped for a cool-down.

State lives in the breaker object (one per provider, built with the app's services), never at module level.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

DEFAULT_FAILURE_THRESHOLD = 3
DEFAULT_COOL_DOWN_S = 120.0


@dataclass
class CircuitBreaker:
    failure_threshold: int = DEFAULT_FAILURE_THRESHOLD
    cool_down_s: float = DEFAULT_COOL_DOWN_S
    clock: Callable[[], float] = time.monotonic
    failures: int = 0
    opened_at: float | None = field(default=None)

    def allows(self) -> bool:
        """True when the provider may be called: closed, or open long enough to try once more (half-open)."""
        if self.opened_at is None:
            return True
        return self.clock() - self.opened_at >= self.cool_down_s

    @property
    def is_open(self) -> bool:
        return not self.allows()

    def record_success(self) -> None:
        self.failures = 0
        self.opened_at = None

    def record_failure(self) -> None:
        self.failures += 1
        # A failed half-open trial re-opens at once; otherwise open after the threshold.
        if self.opened_at is not None or self.failures >= self.failure_threshold:
            self.opened_at = self.clock()
