"""The inventory page's queries: sorting by any column with keyset pages, counts, choices."""

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import QueryableAttribute, aliased

from webapp.errors import QueryError
from webapp.extensions import db
from webapp.figures import percent_of
from webapp.models import Sim
from webapp.paging import Page, decode_cursor, encode_cursor
from webapp.sim_queries import VIEW_PARAMS, SimFilters, forecast_of, quota_ends_on

# Counting stops here: an exact count of a huge set costs a scan per keystroke.
COUNT_CAP = 1_000
PAGE_SIZE = 50
EXPORT_BATCH = 1000


@dataclass(frozen=True)
class SortKey:
    """A column the inventory sorts by (of Sim or an alias of it), and its cursor value."""

    column: Callable[[Any], sa.ColumnElement]
    value_of: Callable[[Any], Any]
    parse: Callable[[Any], Any]
    nullable: bool = True


def quota_ends_on_day(sim: Any) -> date | None:
    """The day the data quota of a loaded SIM ends (the sort key `runs_out`), or None."""
    forecast = forecast_of(sim)
    return forecast.ends_on if forecast else None


def data_left_percent(remaining: Decimal | None, total: Decimal | None) -> int | None:
    """The data left as a whole percentage of the quota, or None if unknown (as the SIM page)."""
    return percent_of(remaining, total)


def _attribute(name: str) -> Callable[[Any], Any]:
    return lambda sim: getattr(sim, name)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(value)
    return value


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(value)
    return value


def _number(value: Any) -> Decimal:
    return Decimal(_text(value))


def _moment(value: Any) -> datetime:
    return datetime.fromisoformat(_text(value))


def _day(value: Any) -> date:
    return date.fromisoformat(_text(value))


def _key(name: str, parse: Callable[[Any], Any]) -> SortKey:
    return SortKey(lambda sims: getattr(sims, name), _attribute(name), parse)


SORT_KEYS: dict[str, SortKey] = {
    "iccid": SortKey(lambda sims: sims.iccid, _attribute("iccid"), _text, nullable=False),
    "label": _key("label", _text),
    "status": _key("status", _text),
    "online": _key("online", _flag),
    "operator": _key("operator", _text),
    "country": _key("country", _text),
    "data_left": _key("data_remaining_mb", _number),
    "avg_7d": _key("avg_daily_mb_7d", _number),
    "avg_30d": _key("avg_daily_mb_30d", _number),
    "runs_out": SortKey(quota_ends_on, quota_ends_on_day, _day),
    "last_seen": _key("last_seen_at", _moment),
    "synced": _key("usage_synced_at", _moment),
}


@dataclass(frozen=True)
class SimOrder:
    """The inventory's order: one sort key and a direction, ICCID breaking ties."""

    sort: str = "iccid"
    descending: bool = False

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> "SimOrder":
        """Parse `sort` (a column name) and `dir` (asc or desc); QueryError if unknown."""
        sort = args.get("sort") or "iccid"
        if sort not in SORT_KEYS:
            raise QueryError("sort", f"must be one of {', '.join(SORT_KEYS)}")
        direction = args.get("dir") or "asc"
        if direction not in ("asc", "desc"):
            raise QueryError("dir", "must be asc or desc")
        return cls(sort=sort, descending=direction == "desc")

    @property
    def direction(self) -> str:
        """The sort direction as the URL spells it: asc or desc."""
        return "desc" if self.descending else "asc"


def view_args(args: Mapping[str, str]) -> dict[str, str]:
    """The arguments that define the current view (no cursor, no empty values), in URL order."""
    return {name: args[name] for name in VIEW_PARAMS if args.get(name)}


def list_inventory(
    *,
    filters: SimFilters,
    order: SimOrder,
    limit: int = PAGE_SIZE,
    cursor: str | None = None,
    columns: tuple | None = None,
    small: bool = False,
) -> Page:
    """A page of SIMs in `order` after `cursor`, NULLs last in either direction.

    `small` says the filters match few SIMs (estimated): they are then read first and sorted,
    instead of walking the sort index past every SIM that does not match. With `columns`,
    rows of those Sim columns instead of Sim objects (the export, without filling the session).
    """
    key = SORT_KEYS[order.sort]
    position = _decode(cursor, order, key)
    if small:
        return _small_page(filters=filters, order=order, key=key, position=position, limit=limit)
    sims = Sim
    base = sa.select(*(columns or (Sim,))).where(*filters.conditions())
    column = key.column(sims)
    rows: list = []
    # Two index-ordered queries instead of ORDER BY ... NULLS LAST: one index on
    # (column, iccid) serves both directions, and the second query runs only at the boundary.
    if not key.nullable or position is None or position[0] is not None:
        query = base.where(column.is_not(None)) if key.nullable else base
        query = _ordered(query, column, sims.iccid, order, position, key.nullable)
        rows = _fetch(query, limit + 1, columns)
    if key.nullable and len(rows) <= limit:
        nulls = base.where(column.is_(None))
        if position is not None and position[0] is None:
            nulls = nulls.where(_after(sims.iccid, position[1], order))
        nulls = nulls.order_by(sims.iccid.desc() if order.descending else sims.iccid)
        rows += _fetch(nulls, limit + 1 - len(rows), columns)
    return Page.from_rows(rows, limit, lambda row: _encode(row, order, key))


def _small_page(
    *,
    filters: SimFilters,
    order: SimOrder,
    key: SortKey,
    position: tuple[Any, str] | None,
    limit: int,
) -> Page:
    # One statement: the few matching SIMs are searched once, then sorted with NULLs last.
    matching = sa.select(Sim).where(*filters.conditions()).cte("matching")
    sims = aliased(Sim, matching.prefix_with("MATERIALIZED"))
    column = key.column(sims)
    query = sa.select(sims)
    if order.descending:
        query = query.order_by(column.is_(None), column.desc(), sims.iccid.desc())
    else:
        query = query.order_by(column.is_(None), column, sims.iccid)
    if position is not None:
        value, after = position
        if value is None:
            query = query.where(column.is_(None), _after(sims.iccid, after, order))
        else:
            here = sa.tuple_(column, sims.iccid)
            there = sa.tuple_(sa.literal(value, type_=column.type), sa.literal(after))
            query = query.where(
                sa.or_(column.is_(None), here < there if order.descending else here > there)
            )
    rows = _fetch(query, limit + 1, None)
    return Page.from_rows(rows, limit, lambda row: _encode(row, order, key))


def iter_inventory(*, filters: SimFilters, order: SimOrder, columns: tuple) -> Iterator:
    """Every row of the view in order, a keyset batch at a time (constant memory)."""
    cursor = None
    while True:
        page = list_inventory(
            filters=filters, order=order, limit=EXPORT_BATCH, cursor=cursor, columns=columns
        )
        yield from page.items
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


@dataclass(frozen=True)
class SimCount:
    """How many SIMs a view holds: exact, or PostgreSQL's estimate for a large set."""

    value: int
    exact: bool


def estimate_sims(*, filters: SimFilters) -> int:
    """PostgreSQL's estimate of how many SIMs the filters match (a plan, no scan)."""
    query = sa.select(sa.literal(1)).where(*filters.conditions())
    compiled = query.compile(dialect=db.engine.dialect)
    connection = db.session.connection()
    plan = connection.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {compiled}", compiled.params)
    return int(plan.scalar_one()[0]["Plan"]["Plan Rows"])


def count_sims(*, filters: SimFilters, estimate: int | None = None) -> SimCount:
    """How many SIMs the filters match: exact up to COUNT_CAP, estimated beyond.

    An exact count of thousands of trigram matches costs more than the page itself, on every
    keystroke; the planner's estimate of a large set is close enough to say "about 4,100".
    Counting filters alone exactly tripled the page's time at 100,000 SIMs
    (docs/performance.md); the views of the dashboard's figures get the figure's own count
    instead (`webapp.fleet.services.count_figure_view`).
    """
    if estimate is None:
        estimate = estimate_sims(filters=filters)
    if estimate <= 2 * COUNT_CAP:
        matching = sa.select(sa.literal(1)).where(*filters.conditions())
        capped = matching.limit(COUNT_CAP + 1).subquery()
        count = db.session.execute(sa.select(sa.func.count()).select_from(capped)).scalar_one()
        if count <= COUNT_CAP:
            return SimCount(count, exact=True)
    return SimCount(_two_digits(max(estimate, COUNT_CAP + 1)), exact=False)


def _two_digits(number: int) -> int:
    return int(float(f"{number:.2g}"))


def list_choices(column: QueryableAttribute[Any]) -> list[str]:
    """The distinct values of a low-cardinality column, read as a loose index scan."""
    # PostgreSQL has no skip scan: walk the index from one value to the next instead of
    # reading 100,000 entries for a handful of countries.
    name = column.key
    walk = sa.text(
        f"""
        WITH RECURSIVE v AS (
            (SELECT {name} AS value FROM sims WHERE {name} IS NOT NULL ORDER BY {name} LIMIT 1)
            UNION ALL
            SELECT (SELECT {name} FROM sims WHERE {name} > v.value ORDER BY {name} LIMIT 1)
            FROM v WHERE v.value IS NOT NULL
        )
        SELECT value FROM v WHERE value IS NOT NULL
        """
    )
    return list(db.session.scalars(walk))


def _fetch(query: sa.Select, limit: int, columns: tuple | None) -> list:
    query = query.limit(limit)
    return list(db.session.execute(query).all() if columns else db.session.scalars(query))


def _ordered(
    query: sa.Select,
    column: sa.ColumnElement,
    iccid: sa.SQLColumnExpression[str],
    order: SimOrder,
    position: tuple[Any, str] | None,
    nullable: bool,
) -> sa.Select:
    if order.descending:
        query = query.order_by(column.desc(), iccid.desc())
    else:
        query = query.order_by(column, iccid)
    if position is None:
        return query
    value, after = position
    if not nullable:
        return query.where(_after(iccid, after, order))
    here = sa.tuple_(column, iccid)
    there = sa.tuple_(sa.literal(value, type_=column.type), sa.literal(after))
    return query.where(here < there if order.descending else here > there)


def _after(
    column: sa.SQLColumnExpression[Any], value: Any, order: SimOrder
) -> sa.ColumnElement[bool]:
    return column < value if order.descending else column > value


def _encode(row: Any, order: SimOrder, key: SortKey) -> str:
    value = key.value_of(row)
    if isinstance(value, Decimal):
        value = str(value)
    elif isinstance(value, date):
        value = value.isoformat()
    return encode_cursor(
        {"sort": order.sort, "dir": order.direction, "value": value, "iccid": row.iccid}
    )


def _decode(cursor: str | None, order: SimOrder, key: SortKey) -> tuple[Any, str] | None:
    position = decode_cursor(cursor, "iccid")
    if position is None:
        return None
    if position.get("sort") != order.sort or position.get("dir") != order.direction:
        raise QueryError("cursor", "belongs to another sort order; start from the first page")
    raw = position.get("value")
    if raw is None:
        return None, position["iccid"]
    try:
        return key.parse(raw), position["iccid"]
    except (ValueError, InvalidOperation, TypeError):
        raise QueryError("cursor", "is not a cursor this page returned") from None
