"""Progress, forecast and status of key results and objectives: the one rule every surface uses.

Key result progress p = clamp((current - start) / (target - start), 0, 1), where current is the latest
check-in on or before today (start if none); a target below start is a decreasing metric.
Elapsed e = (today - period start) / (period end - period start), clamped to 0..1.
Forecast f: the least-squares line through (0, start) and every check-in (days since period start, value),
evaluated at the period end and turned into progress.
Status: done if p >= 1; else off_track if f < 0.5; else at_risk if f < 0.8, or the latest check-in is
more than 14 days old, or there is none and e > 0.15; else on_track. The thresholds are per workspace.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import date
from typing import Any

from storage.okr_enums import OkrStatus


class RulesError(ValueError):
    """A workspace's progress rules that cannot work."""


@dataclass(frozen=True)
class OkrRules:
    off_track_below: float = 0.5
    at_risk_below: float = 0.8
    stale_after_days: int = 14
    no_checkin_elapsed: float = 0.15

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> OkrRules:
        """Rules from a workspace's stored JSON; unknown keys or bad values raise RulesError."""
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise RulesError(f"unknown OKR rule(s): {', '.join(sorted(unknown))}")
        rules = cls(**{**asdict(cls()), **data})
        if not 0 <= rules.off_track_below <= rules.at_risk_below <= 1:
            raise RulesError("need 0 <= off_track_below <= at_risk_below <= 1")
        if rules.stale_after_days < 1 or not 0 <= rules.no_checkin_elapsed <= 1:
            raise RulesError("stale_after_days must be >= 1 and no_checkin_elapsed within 0..1")
        return rules

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Point:
    day: date
    value: float


@dataclass(frozen=True)
class Window:
    """A period's first and last day (inclusive)."""

    start: date
    end: date

    def x(self, day: date) -> float:
        return float((day - self.start).days)

    @property
    def length(self) -> float:
        return float(max((self.end - self.start).days, 1))

    def elapsed(self, today: date) -> float:
        return clamp(self.x(today) / self.length)


@dataclass(frozen=True)
class KrFacts:
    """What the check-ins say about a key result as of a day."""

    current: float
    progress: float
    forecast: float | None
    last_checkin_on: date | None


@dataclass(frozen=True)
class Verdict:
    """A status and the figures behind it."""

    status: OkrStatus
    progress: float
    forecast: float | None
    days_since_checkin: int | None
    elapsed: float
    rule: str = ""

    def reason(self) -> str:
        """The rule and data behind the status, e.g. 'forecast 62% of target, last check-in 9 days ago'."""
        parts = [self.rule] if self.rule else []
        parts.append(f"progress {pct(self.progress)}")
        if self.forecast is not None:
            parts.append(f"forecast {pct(self.forecast)} of target")
        if self.days_since_checkin is None:
            parts.append(f"no check-in yet, {pct(self.elapsed)} of the period gone")
        else:
            days = self.days_since_checkin
            parts.append("last check-in today" if days == 0 else f"last check-in {days} day{'s' * (days != 1)} ago")
        return ", ".join(parts)


def clamp(value: float, low: float = 0.0, high: float = 1.0) -> float:
    return max(low, min(high, value))


def pct(value: float) -> str:
    return f"{round(100 * value)}%"


def progress_of(start: float, target: float, value: float) -> float:
    if target == start:
        return 1.0 if value == target else 0.0
    return clamp((value - start) / (target - start))


def forecast_value(start: float, points: Sequence[Point], window: Window) -> float | None:
    """The least-squares line through (0, start) and every check-in, evaluated at the period end."""
    if not points:
        return None
    xs = [0.0] + [window.x(p.day) for p in points]
    ys = [start] + [p.value for p in points]
    n = len(xs)
    mean_x, mean_y = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mean_x) ** 2 for x in xs)
    if sxx == 0:
        return mean_y
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sxx
    return mean_y + slope * (window.x(window.end) - mean_x)


def kr_facts(start: float, target: float, checkins: Iterable[Point], window: Window, today: date) -> KrFacts:
    points = sorted((p for p in checkins if p.day <= today), key=lambda p: p.day)
    current = points[-1].value if points else start
    projected = forecast_value(start, points, window)
    return KrFacts(
        current=current,
        progress=progress_of(start, target, current),
        forecast=None if projected is None else progress_of(start, target, projected),
        last_checkin_on=points[-1].day if points else None,
    )


def kr_verdict(facts: KrFacts, window: Window, today: date, rules: OkrRules) -> Verdict:
    elapsed = window.elapsed(today)
    days = None if facts.last_checkin_on is None else (today - facts.last_checkin_on).days
    status, rule = _status(facts, elapsed, days, rules)
    return Verdict(status, facts.progress, facts.forecast, days, elapsed, rule)


def _status(facts: KrFacts, elapsed: float, days: int | None, rules: OkrRules) -> tuple[OkrStatus, str]:
    """The status and the rule that decided it."""
    if facts.progress >= 1:
        return OkrStatus.DONE, "target reached"
    if facts.forecast is not None and facts.forecast < rules.off_track_below:
        return OkrStatus.OFF_TRACK, f"forecast under {pct(rules.off_track_below)}"
    if facts.forecast is not None and facts.forecast < rules.at_risk_below:
        return OkrStatus.AT_RISK, f"forecast under {pct(rules.at_risk_below)}"
    if days is not None and days > rules.stale_after_days:
        return OkrStatus.AT_RISK, f"no check-in for over {rules.stale_after_days} days"
    if days is None and elapsed > rules.no_checkin_elapsed:
        return OkrStatus.AT_RISK, f"no check-in after {pct(rules.no_checkin_elapsed)} of the period"
    return OkrStatus.ON_TRACK, f"forecast at least {pct(rules.at_risk_below)}, checked in recently"


@dataclass(frozen=True)
class Rollup:
    progress: float
    status: OkrStatus


def worst(statuses: Iterable[OkrStatus]) -> OkrStatus | None:
    return max(statuses, key=lambda s: s.severity, default=None)


def objective_rollup(
    key_results: Sequence[tuple[float, float, OkrStatus]],
    children: Sequence[Rollup],
    window: Window,
    today: date,
    rules: OkrRules,
) -> Rollup:
    """key_results: (weight, progress, status). Without key results, the children decide."""
    if key_results:
        total = sum(w for w, _, _ in key_results)
        progress = sum(w * p for w, p, _ in key_results) / total if total > 0 else 0.0
        return Rollup(progress, worst(s for _, _, s in key_results) or OkrStatus.ON_TRACK)
    if children:
        progress = sum(c.progress for c in children) / len(children)
        return Rollup(progress, worst(c.status for c in children) or OkrStatus.ON_TRACK)
    # Nothing to measure yet: treated like a key result without check-ins.
    empty = KrFacts(current=0.0, progress=0.0, forecast=None, last_checkin_on=None)
    return Rollup(0.0, kr_verdict(empty, window, today, rules).status)
