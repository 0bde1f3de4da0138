"""SIM rules shared by the inventory, the SIM page, bulk actions and the JSON API.

The inventory's filters, one SIM by ICCID, its daily usage and its events in keyset pages.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import QueryableAttribute

from webapp.errors import QueryError
from webapp.extensions import db
from webapp.inputs import parse_day, parse_whole_number
from webapp.models import Sim, SimEvent, UsageDay
from webapp.models.sim import QUOTA_STATES
from webapp.one_nce.parsing import is_iccid
from webapp.paging import Page, decode_cursor, encode_cursor

# What 1NCE's /status reports; BLOCKED exists on its API v2 only.
CONNECTIVITY_STATES = ("online", "attached", "offline", "blocked")
SEARCHED_COLUMNS = (Sim.iccid, Sim.imsi, Sim.msisdn, Sim.imei, Sim.ip_address, Sim.label)
# The identifiers are digits and IP addresses hex digits, dots and colons: text that cannot
# occur in a column is not searched there (each trigram index scan costs, even finding nothing).
DIGITS = re.compile(r"[0-9]+")
IP_TEXT = re.compile(r"[0-9a-fA-F.:]+")
MAX_LIMIT = 1000
DEFAULT_LIMIT = 100
MAX_USAGE_DAYS = 731
DEFAULT_USAGE_DAYS = 30
MAX_TEXT_FILTER = 100
# "Last seen more than ... ago": a number of hours or days, such as 24h or 7d.
UNSEEN = re.compile(r"([1-9][0-9]{0,3})([hd])")
# "Silent for" and "quota ends within": a number of days, such as 3d or 30d.
DAYS = re.compile(r"([1-9][0-9]{0,3})d")
# The query parameters that make up one view of the inventory (the cursor is a position in it).
VIEW_PARAMS = (
    "q", "status", "quota_state", "online", "connectivity", "country", "operator", "has_label",
    "unseen", "silent", "quota_ends", "label", "sort", "dir",
)  # fmt: skip


def utc_today() -> sa.ColumnElement[date]:
    """Today's UTC date by the database's clock, so that a compiled query stays right."""
    return sa.cast(sa.func.timezone("UTC", sa.func.now()), sa.Date)


def is_silent(days: int) -> sa.ColumnElement[bool]:
    """Silent for `days`: an enabled SIM whose last data or SMS traffic is `days` or more ago."""
    return sa.and_(Sim.status == "Enabled", Sim.last_traffic_on <= utc_today() - days)


def quota_ends_on(sims: Any) -> sa.ColumnElement[date]:
    """The day the data quota ends: it runs out at the 7-day rate, or expires if that is sooner."""
    # LEAST skips NULLs; the same expression as the index ix_sims_runs_out_on, so it is used.
    expires = sa.func.timezone(sa.literal_column("'UTC'"), sims.data_expires_at)
    return sa.func.least(sims.data_exhausted_on, sa.cast(expires, sa.Date))


def quota_ends_within(days: int) -> sa.ColumnElement[bool]:
    """The data quota runs out or expires from today to `days` days from now."""
    return quota_ends_on(Sim).between(utc_today(), utc_today() + days)


@dataclass(frozen=True)
class Forecast:
    """When a SIM's data quota ends, and why: the volume runs out, or the quota expires first
    (then with the volume expected to be left unused, and lost)."""

    ends_on: date
    reason: str  # "runs_out" or "expires"
    unused_mb: Decimal | None = None

    def is_past(self, today: date | None = None) -> bool:
        """True when the day is before today (UTC)."""
        return self.ends_on < (today or datetime.now(UTC).date())


def forecast_of(sim: Any) -> Forecast | None:
    """The forecast of a loaded SIM (or a row with its columns); None when nothing ends."""
    runs_out = sim.data_exhausted_on
    expires = sim.data_expires_at.astimezone(UTC).date() if sim.data_expires_at else None
    if expires is not None and (runs_out is None or expires < runs_out):
        return Forecast(expires, "expires", sim.data_unused_at_expiry_mb)
    return Forecast(runs_out, "runs_out") if runs_out is not None else None


@dataclass(frozen=True)
class SimFilters:
    """What the inventory is narrowed to; every field None means the whole fleet."""

    q: str | None = None
    status: str | None = None
    quota_state: str | None = None
    online: bool | None = None
    connectivity: str | None = None
    label: str | None = None
    country: str | None = None
    operator: str | None = None
    has_label: bool | None = None
    unseen: str | None = None
    silent: str | None = None
    quota_ends: str | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> "SimFilters":
        """Parse request arguments; raise QueryError naming the first bad one."""
        quota_state = args.get("quota_state") or None
        if quota_state is not None and quota_state not in QUOTA_STATES:
            raise QueryError("quota_state", f"must be one of {', '.join(QUOTA_STATES)}")
        connectivity = args.get("connectivity") or None
        if connectivity is not None and connectivity not in CONNECTIVITY_STATES:
            raise QueryError("connectivity", f"must be one of {', '.join(CONNECTIVITY_STATES)}")
        unseen = args.get("unseen") or None
        if unseen is not None and not UNSEEN.fullmatch(unseen):
            raise QueryError("unseen", "must be a number of hours or days, such as 24h or 7d")
        return cls(
            q=_text(args, "q"),
            status=_text(args, "status"),
            quota_state=quota_state,
            online=_boolean(args, "online"),
            connectivity=connectivity,
            label=_text(args, "label"),
            country=_text(args, "country"),
            operator=_text(args, "operator"),
            has_label=_boolean(args, "has_label"),
            unseen=unseen,
            silent=_days(args, "silent"),
            quota_ends=_days(args, "quota_ends"),
        )

    def to_args(self) -> dict[str, str]:
        """These filters as the inventory's URL arguments."""
        return {name: _arg(value) for name, value in vars(self).items() if value is not None}

    @property
    def narrowed(self) -> bool:
        """True when any filter is set (the view is not the whole fleet)."""
        return any(value is not None for value in vars(self).values())

    def conditions(self) -> list[sa.ColumnElement[bool]]:
        """The WHERE conditions these filters stand for."""
        conditions: list[sa.ColumnElement[bool]] = [Sim.removed_at.is_(None)]
        if self.q:
            pattern = _contains(self.q)
            columns = _searchable_columns(self.q)
            conditions.append(sa.or_(*(c.ilike(pattern, escape="\\") for c in columns)))
        if self.status:
            conditions.append(Sim.status == self.status)
        if self.quota_state:
            conditions.append(Sim.data_quota_state == QUOTA_STATES[self.quota_state].id)
        if self.online is not None:
            conditions.append(Sim.online.is_(self.online))
        if self.connectivity:
            conditions.append(Sim.connectivity_status == self.connectivity.upper())
        if self.label:
            conditions.append(Sim.label.ilike(_contains(self.label), escape="\\"))
        if self.country:
            conditions.append(Sim.country == self.country)
        if self.operator:
            conditions.append(Sim.operator == self.operator)
        if self.has_label is not None:
            labelled = sa.func.coalesce(Sim.label, "") != ""
            conditions.append(labelled if self.has_label else sa.not_(labelled))
        if self.unseen:
            # Against the database's clock, so that a compiled query stays right as time passes.
            since = sa.func.now() - _unseen_delta(self.unseen)
            conditions.append(sa.or_(Sim.last_seen_at.is_(None), Sim.last_seen_at < since))
        if self.silent:
            conditions.append(is_silent(_day_count(self.silent)))
        if self.quota_ends:
            conditions.append(quota_ends_within(_day_count(self.quota_ends)))
        return conditions


def parse_limit(raw: str | None) -> int:
    """A page size from 1 to MAX_LIMIT (DEFAULT_LIMIT when absent)."""
    if raw is None:
        return DEFAULT_LIMIT
    return parse_whole_number(raw, field="limit", minimum=1, maximum=MAX_LIMIT)


def get_sim(*, iccid: str) -> Sim | None:
    """The SIM with this ICCID, or None (also for anything that cannot be an ICCID)."""
    return db.session.get(Sim, iccid) if is_iccid(iccid) else None


def parse_date_range(args: Mapping[str, str], *, today: date) -> tuple[date, date]:
    """`start` and `end` (inclusive, ISO dates); the last 30 days by default, at most 2 years."""
    end = _date(args, "end") or today
    start = _date(args, "start") or end - timedelta(days=DEFAULT_USAGE_DAYS - 1)
    if start > end:
        raise QueryError("start", "must not be after end")
    if (end - start).days + 1 > MAX_USAGE_DAYS:
        raise QueryError("start", f"the range may span at most {MAX_USAGE_DAYS} days")
    return start, end


class DailyUsage(NamedTuple):
    """One day of usage; every figure None when the day is not known (never fetched, or pruned)."""

    day: date
    data_rx_mb: Decimal | None
    data_tx_mb: Decimal | None
    sms_mo: int | None
    sms_mt: int | None


def known_usage(
    rows: Iterable[Any], *, known_from: date | None, known_through: date | None
) -> list[DailyUsage]:
    """Rows of (day, figures or None) as DailyUsage: a known day without a row had no traffic
    (zeros), a day outside `known_from`..`known_through` has no data (None), never zero."""
    result = []
    for day, *figures in rows:
        if known_from is None or known_through is None or not known_from <= day <= known_through:
            result.append(DailyUsage(day, None, None, None, None))
        else:
            rx, tx, mo, mt = (value or 0 for value in figures)
            result.append(DailyUsage(day, Decimal(rx), Decimal(tx), int(mo), int(mt)))
    return result


def day_series(start: date, end: date) -> sa.Subquery:
    """Every day from `start` to `end` (inclusive), as the subquery's column `day`."""
    return sa.select(
        sa.func.generate_series(start, end, sa.text("interval '1 day'")).cast(sa.Date).label("day")
    ).subquery()


def list_sim_usage(*, iccid: str, start: date, end: date) -> list[DailyUsage]:
    """One row per day from `start` to `end`, oldest first: zeros for known days without
    traffic, None for days never fetched or pruned (see `Sim.usage_synced_from`)."""
    known = db.session.execute(
        sa.select(Sim.usage_synced_from, Sim.usage_synced_through).where(Sim.iccid == iccid)
    ).first()
    days = day_series(start, end)
    query = (
        sa.select(
            days.c.day, UsageDay.data_rx_mb, UsageDay.data_tx_mb, UsageDay.sms_mo, UsageDay.sms_mt
        )
        .select_from(days)
        .outerjoin(UsageDay, sa.and_(UsageDay.iccid == iccid, UsageDay.day == days.c.day))
        .order_by(days.c.day)
    )
    known_from, known_through = known or (None, None)
    return known_usage(
        db.session.execute(query), known_from=known_from, known_through=known_through
    )


def list_sim_events(
    *, iccid: str, limit: int = DEFAULT_LIMIT, cursor: str | None = None
) -> Page[SimEvent]:
    """A page of the SIM's events, newest first, and the cursor of the next page."""
    position = decode_cursor(cursor, "occurred_at", "event_key")
    query = (
        sa.select(SimEvent)
        .where(SimEvent.iccid == iccid)
        .order_by(SimEvent.occurred_at.desc(), SimEvent.event_key.desc())
        .limit(limit + 1)
    )
    if position:
        try:
            occurred_at = datetime.fromisoformat(position["occurred_at"])
        except ValueError:
            raise QueryError("cursor", "is not a cursor this API returned") from None
        query = query.where(
            sa.tuple_(SimEvent.occurred_at, SimEvent.event_key)
            < sa.tuple_(sa.literal(occurred_at), sa.literal(position["event_key"]))
        )
    return Page.from_rows(list(db.session.scalars(query)), limit, _event_cursor)


def _event_cursor(event: SimEvent) -> str:
    position = {"occurred_at": event.occurred_at.isoformat(), "event_key": event.event_key}
    return encode_cursor(position)


def _text(args: Mapping[str, str], name: str) -> str | None:
    value = (args.get(name) or "").strip()
    if len(value) > MAX_TEXT_FILTER or "\x00" in value:
        raise QueryError(name, f"must be text of at most {MAX_TEXT_FILTER} characters")
    return value or None


def _boolean(args: Mapping[str, str], name: str) -> bool | None:
    value = args.get(name)
    if value is None or value == "":
        return None
    if value not in ("true", "false"):
        raise QueryError(name, "must be true or false")
    return value == "true"


def _days(args: Mapping[str, str], name: str) -> str | None:
    value = args.get(name) or None
    if value is not None and not DAYS.fullmatch(value):
        raise QueryError(name, "must be a number of days, such as 3d or 30d")
    return value


def _day_count(days: str) -> int:
    return int(days.removesuffix("d"))


def _arg(value: str | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _unseen_delta(unseen: str) -> timedelta:
    match = UNSEEN.fullmatch(unseen)
    assert match is not None, "SimFilters.from_args validated it"
    number, unit = match.groups()
    return timedelta(hours=int(number)) if unit == "h" else timedelta(days=int(number))


def _date(args: Mapping[str, str], name: str) -> date | None:
    value = args.get(name)
    return None if value is None else parse_day(value, field=name)


def _searchable_columns(text: str) -> list[QueryableAttribute[str | None]]:
    """The SEARCHED_COLUMNS whose values could contain `text`."""
    if DIGITS.fullmatch(text):
        return list(SEARCHED_COLUMNS)
    if IP_TEXT.fullmatch(text):
        return [Sim.ip_address, Sim.label]
    return [Sim.label]


def _contains(text: str) -> str:
    """An ILIKE pattern matching `text` anywhere, with its wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
