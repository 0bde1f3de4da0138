"""Readiness checks and the worker heartbeat."""

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask import current_app
from flask_migrate import Migrate
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from redis.exceptions import RedisError

from webapp.extensions import db, get_redis
from webapp.sync.services import get_api_version

HEARTBEAT_KEY = "simfleet:worker:heartbeat"


@cache
def migration_heads(directory: str) -> frozenset[str]:
    """The head revisions of the migration scripts (read once per process)."""
    migrate: Migrate = current_app.extensions["migrate"].migrate
    config = migrate.get_config(directory)
    # Flask-Migrate's Config subclasses alembic's; its stubs cannot say so yet.
    return frozenset(ScriptDirectory.from_config(config).get_heads())  # type: ignore[arg-type]


def check_database() -> str | None:
    """None when PostgreSQL answers and the schema is at the migration head, else why not."""
    try:
        current = set(db.session.scalars(sa.text("SELECT version_num FROM alembic_version")))
    except sa.exc.SQLAlchemyError as exc:
        db.session.rollback()
        return f"database unavailable or not migrated: {exc.__class__.__name__}"
    heads = migration_heads(current_app.extensions["migrate"].directory)
    if current != heads:
        return f"schema at {sorted(current) or 'nothing'}, migrations head is {sorted(heads)}"
    return None


def check_redis() -> str | None:
    """None when Redis answers, else why not."""
    try:
        get_redis().ping()
    except Exception as exc:  # any failure to reach Redis means "not ready"
        return f"redis unavailable: {exc.__class__.__name__}"
    return None


def record_heartbeat() -> datetime:
    """Store the worker's beat time; the readiness page reports its age."""
    now = datetime.now(UTC)
    get_redis().set(HEARTBEAT_KEY, now.isoformat())
    return now


def get_heartbeat() -> datetime | None:
    """The last time a worker ran the heartbeat job, if ever."""
    raw = get_redis().get(HEARTBEAT_KEY)
    # Replies are bytes (no decode_responses); redis-py types them as bytes | str.
    return datetime.fromisoformat(raw.decode()) if raw else None  # type: ignore[union-attr]


@dataclass(frozen=True)
class WorkerBeat:
    """The worker's last heartbeat as pages show it; not `known` while Redis is unreachable."""

    at: datetime | None
    known: bool = True


def get_worker_beat() -> WorkerBeat:
    """The last heartbeat, or an unknown one when Redis cannot be read (pages degrade)."""
    try:
        return WorkerBeat(at=get_heartbeat())
    except RedisError:
        return WorkerBeat(at=None, known=False)


def readiness() -> tuple[bool, dict]:
    """Whether this instance can serve traffic, with a body naming what failed."""
    problems = {"database": check_database(), "redis": check_redis()}
    ok = not any(problems.values())
    body: dict = {
        "status": "ok" if ok else "fail",
        "checks": {
            name: {"status": "fail", "error": problem} if problem else {"status": "ok"}
            for name, problem in problems.items()
        },
    }
    body["once_api"] = get_api_version()
    if not problems["redis"]:
        beat = get_heartbeat()
        body["worker"] = {
            "last_beat": beat.isoformat() if beat else None,
            "age_seconds": round((datetime.now(UTC) - beat).total_seconds()) if beat else None,
        }
    return ok, body


class RedisCollector(Collector):
    """`simfleet_redis_up`: whether Redis answered a ping at scrape time."""

    def collect(self):
        """Ping Redis now."""
        yield GaugeMetricFamily(
            "simfleet_redis_up",
            "1 when Redis (queues, rate limits) answered a ping at scrape time, else 0.",
            value=0 if check_redis() else 1,
        )
