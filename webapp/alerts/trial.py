"""Trying a rule ("Try this rule"): an unsaved rule evaluated day by day on stored history.

The trial runs the live evaluation itself (`evaluate_rule`, the same lifecycle with its
cooldown) for each day, on the fleet as rebuilt for the end of that day, inside a savepoint
that it rolls back: what it reports is what live evaluation over those days would have done,
and nothing of it is kept.
"""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from webapp.alerts.conditions import end_of_day
from webapp.alerts.evaluation import evaluate_rule
from webapp.alerts.rules import RuleSpec, parse_rule
from webapp.alerts.services import check_references
from webapp.extensions import db
from webapp.models import AlertRule
from webapp.models.base import utcnow

MAX_TRY_DAYS = 90


@dataclass(frozen=True)
class TriedSim:
    """A SIM (None for a system condition) and the days a new alert fired for it."""

    iccid: str | None
    fired_on: tuple[date, ...]


@dataclass(frozen=True)
class TryResult:
    """What the rule would have done from `start` to `end`: which SIMs fired when, and how
    many messages one channel would have received (after cooldown and digest)."""

    start: date
    end: date
    sims: list[TriedSim]
    notifications: int


def try_rule(
    *,
    data: Mapping[str, Any] | RuleSpec,
    days: int = 30,
    digest_period: str | None = None,
    now: datetime | None = None,
) -> TryResult:
    """Evaluate an unsaved rule on each of the last `days` days (today up to `now`).

    `digest_period` ("hourly", "daily" or None) counts one message per period with any
    notification in it. RuleError names a bad field. Writes nothing that outlives the call.
    """
    spec = check_references(data if isinstance(data, RuleSpec) else parse_rule(data))
    now = now or utcnow()
    end = now.astimezone(UTC).date()
    start = end - timedelta(days=min(max(days, 1), MAX_TRY_DAYS) - 1)
    fired: dict[str | None, list[date]] = {}
    notified: list[datetime] = []
    trial = db.session.begin_nested()
    try:
        rule = _unsaved_rule(spec)
        day = start
        while day <= end:
            as_of = min(end_of_day(day), now)
            outcome = evaluate_rule(rule, now=as_of, history=True, want_iccids=True)
            for iccid in outcome.new_iccids:
                fired.setdefault(iccid, []).append(day)
            notified += [as_of] * outcome.notified
            day += timedelta(days=1)
    finally:
        trial.rollback()
    sims = [TriedSim(iccid, tuple(days_)) for iccid, days_ in sorted(fired.items(), key=_by_sim)]
    return TryResult(start, end, sims, _messages(notified, digest_period))


def _unsaved_rule(spec: RuleSpec) -> AlertRule:
    """The rule as a row of the trial's savepoint, under a name no saved rule has."""
    rule = AlertRule(
        name=f"try {uuid.uuid4()}",
        enabled=True,
        severity=spec.severity,
        target_type=spec.target_type,
        target_value=spec.target_value,
        condition_type=spec.condition_type,
        condition_params=spec.condition_params,
        include_inactive=spec.include_inactive,
        cooldown_minutes=spec.cooldown_minutes,
    )
    db.session.add(rule)
    db.session.flush()
    return rule


def _messages(notified: list[datetime], digest_period: str | None) -> int:
    if digest_period is None:
        return len(notified)
    width = "%Y-%m-%d %H" if digest_period == "hourly" else "%Y-%m-%d"
    return len({moment.strftime(width) for moment in notified})


def _by_sim(item: tuple[str | None, list[date]]) -> str:
    return item[0] or ""
