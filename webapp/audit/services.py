"""The audit log: writing records (callers commit) and reading them by filter, page or export."""

from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from flask import has_request_context, request
from flask_login import current_user

from webapp.errors import QueryError
from webapp.extensions import db
from webapp.inputs import parse_day
from webapp.models import AuditEvent, User
from webapp.paging import Page, decode_cursor, encode_cursor

AUDIT_PAGE_SIZE = 50
EXPORT_BATCH = 1000
MAX_FILTER_LENGTH = 254
MAX_EVENT_ID = 2**63 - 1  # audit_events.id is a bigint
# A prefix filter that matches more actions than this is refused: each one is a branch of
# the query, and no real prefix comes near it (the app has a few dozen actions).
MAX_PREFIX_ACTIONS = 100
ORDER = (AuditEvent.at.desc(), AuditEvent.id.desc())
EXPORT_COLUMNS = (
    AuditEvent.id,
    AuditEvent.at,
    AuditEvent.actor,
    AuditEvent.action,
    AuditEvent.target,
    AuditEvent.ip,
    AuditEvent.details,
)


def record_audit(
    action: str,
    *,
    actor: User | None = None,
    actor_label: str | None = None,
    target: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit record for `action` by `actor` (default: the signed-in user)."""
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user._get_current_object()
    event = AuditEvent(
        action=action,
        actor_id=actor.id if actor else None,
        actor=actor_label or (actor.email if actor else "system"),
        target=target,
        ip=request.remote_addr if has_request_context() else None,
        details=details or {},
    )
    db.session.add(event)
    return event


@dataclass(frozen=True)
class AuditFilters:
    """What the audit log is narrowed to; every field None means the whole log."""

    action: str | None = None
    actor: str | None = None
    target: str | None = None
    start: date | None = None
    end: date | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> "AuditFilters":
        """Parse request arguments; raise QueryError naming the first bad one."""
        filters = cls(
            action=_text(args, "action"),
            actor=_text(args, "actor"),
            target=_text(args, "target"),
            start=_date(args, "start"),
            end=_date(args, "end"),
        )
        if filters.start and filters.end and filters.start > filters.end:
            raise QueryError("start", "must not be after the end date")
        return filters

    @property
    def action_prefix(self) -> str | None:
        """The prefix when the action filter ends in `*` (as in `api.*`), else None."""
        return self.action[:-1] if self.action and self.action.endswith("*") else None

    def as_args(self) -> dict[str, str]:
        """The filters as URL arguments (only those that are set)."""
        return {k: str(v) for k, v in asdict(self).items() if v is not None}

    def conditions(self) -> list[sa.ColumnElement[bool]]:
        """The WHERE conditions of every filter except an action prefix."""
        conditions = []
        if self.action and not self.action_prefix:
            conditions.append(AuditEvent.action == self.action)
        if self.actor:
            conditions.append(AuditEvent.actor == self.actor)
        if self.target:
            conditions.append(AuditEvent.target == self.target)
        if self.start:
            conditions.append(AuditEvent.at >= datetime.combine(self.start, time(), UTC))
        if self.end:
            end = datetime.combine(self.end + timedelta(days=1), time(), UTC)
            conditions.append(AuditEvent.at < end)
        return conditions


def list_audit_actions() -> list[str]:
    """Every distinct action in the log, read by skipping through the action index."""
    # A recursive "loose index scan": one index probe per distinct action, not a table scan.
    skip = sa.text(
        "WITH RECURSIVE actions(action) AS ("
        " SELECT min(action) FROM audit_events"
        " UNION ALL"
        " SELECT (SELECT min(action) FROM audit_events WHERE action > actions.action)"
        " FROM actions WHERE actions.action IS NOT NULL)"
        " SELECT action FROM actions WHERE action IS NOT NULL"
    )
    return list(db.session.scalars(skip))


def list_audit_events(
    *, filters: AuditFilters, limit: int = AUDIT_PAGE_SIZE, cursor: str | None = None
) -> Page[AuditEvent]:
    """A page of audit events, newest first, older than `cursor`."""
    events = list(db.session.scalars(_page_query(filters, limit, _position(cursor))))
    return Page.from_rows(events, limit, _cursor_of)


def iter_audit_rows(*, filters: AuditFilters, batch: int = EXPORT_BATCH) -> Iterator[sa.Row]:
    """Every matching event as a plain row of EXPORT_COLUMNS, newest first, in keyset batches."""
    position = None
    while True:
        query = _page_query(filters, batch - 1, position, EXPORT_COLUMNS)
        rows = db.session.execute(query).all()
        yield from rows
        if len(rows) < batch:
            return
        position = (rows[-1].at, rows[-1].id)


def _page_query(
    filters: AuditFilters,
    limit: int,
    position: tuple[datetime, int] | None,
    columns: tuple = (AuditEvent,),
) -> sa.Select:
    conditions = filters.conditions()
    if position is not None:
        conditions.append(
            sa.tuple_(AuditEvent.at, AuditEvent.id)
            < sa.tuple_(sa.literal(position[0]), sa.literal(position[1]))
        )
    prefix = filters.action_prefix
    if prefix is None:
        return sa.select(*columns).where(*conditions).order_by(*ORDER).limit(limit + 1)
    # Several actions: the newest rows of each from the (action, at, id) index, merged. A
    # plain LIKE would walk the whole log backwards when the prefix is rare.
    actions = [action for action in list_audit_actions() if action.startswith(prefix)]
    if len(actions) > MAX_PREFIX_ACTIONS:
        raise QueryError("action", "the prefix matches too many actions")
    if not actions:
        return sa.select(*columns).where(sa.false())
    branches = [
        sa.select(AuditEvent.id)
        .where(AuditEvent.action == action, *conditions)
        .order_by(*ORDER)
        .limit(limit + 1)
        for action in actions
    ]
    newest = sa.union_all(*branches).subquery()
    return (
        sa.select(*columns)
        .join(newest, AuditEvent.id == newest.c.id)
        .order_by(*ORDER)
        .limit(limit + 1)
    )


def _cursor_of(event: AuditEvent) -> str:
    return encode_cursor({"at": event.at.isoformat(), "id": str(event.id)})


def _position(cursor: str | None) -> tuple[datetime, int] | None:
    position = decode_cursor(cursor, "at", "id")
    if position is None:
        return None
    try:
        at = datetime.fromisoformat(position["at"])
    except ValueError:
        raise QueryError("cursor", "is not a cursor this page made") from None
    if not position["id"].isascii() or not position["id"].isdigit() or at.tzinfo is None:
        raise QueryError("cursor", "is not a cursor this page made")
    if int(position["id"]) > MAX_EVENT_ID:
        raise QueryError("cursor", "is not a cursor this page made")
    return at, int(position["id"])


def _text(args: Mapping[str, str], name: str) -> str | None:
    value = (args.get(name) or "").strip()
    if len(value) > MAX_FILTER_LENGTH or "\x00" in value:
        raise QueryError(name, f"must have at most {MAX_FILTER_LENGTH} characters")
    return value or None


def _date(args: Mapping[str, str], name: str) -> date | None:
    value = (args.get(name) or "").strip()
    return parse_day(value, field=name) if value else None
