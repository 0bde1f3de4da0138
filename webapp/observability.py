"""Logging (one line per request, JSON in production), request ids and Prometheus metrics."""

import logging
import os
import re
import sys
import threading
import time
import uuid

import sqlalchemy as sa
from flask import Flask, g, request
from flask_login import current_user
from prometheus_client import Gauge, Histogram
from prometheus_flask_exporter import PrometheusMetrics
from prometheus_flask_exporter.multiprocess import GunicornInternalPrometheusMetrics
from pythonjsonlogger.json import JsonFormatter

from webapp.extensions import db

REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# Defence in depth: whatever a log call passes, these never reach the output.
SECRET_PATTERNS = [
    (re.compile(r"(?i)(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 [redacted]"),
    (
        re.compile(
            r"(?i)((?:password|passwd|secret|token|api[_-]?key|authorization)[\"']?\s*[:=]\s*[\"']?)"
            r"[^\s\"'&,}]+"
        ),
        r"\1[redacted]",
    ),
]
request_logger = logging.getLogger("simfleet.request")
# Defined once per process (apps come and go in tests); labelled by route, never by raw path.
REQUEST_DURATION = Histogram(
    "simfleet_http_request_duration_seconds",
    "Time to answer an HTTP request, by route.",
    ("method", "route", "status"),
)
UNTRACKED_PATHS = ("/static/", "/health", "/metrics", "/api/v1/metrics")
# The database pool of each process: how close the busiest one came to waiting for a connection.
POOL_IN_USE = Gauge(
    "simfleet_db_pool_in_use",
    "Database connections checked out of the pools, summed over live processes.",
    multiprocess_mode="livesum",
)
POOL_PEAK_IN_USE = Gauge(
    "simfleet_db_pool_peak_in_use",
    "The most connections one live process has had checked out at once since it started.",
    multiprocess_mode="livemax",
)
POOL_CAPACITY = Gauge(
    "simfleet_db_pool_capacity",
    "Connections one process's pool may hold (pool size + overflow); beyond, requests wait.",
    multiprocess_mode="livemax",
)


def redact(text: str) -> str:
    """Mask credentials, tokens and passwords in a log message."""
    for pattern, replacement in SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Apply `redact` to every record's rendered message."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the record's message in place; never drop the record."""
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class StderrHandler(logging.StreamHandler):
    """Write to whatever sys.stderr is at the time of the call, not at set-up."""

    simfleet: bool  # set on the handler that configure_logging installs, to replace it later

    @property
    def stream(self):
        """The current sys.stderr; what `logging` assigns here is ignored."""
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


def configure_logging(app: Flask) -> None:
    """Send logs to stderr, as JSON lines or plain text, with secrets redacted."""
    handler = StderrHandler()
    handler.addFilter(RedactingFilter())
    if app.config["LOG_FORMAT"] == "json":
        handler.setFormatter(
            JsonFormatter(
                "{asctime}{levelname}{name}{message}",
                style="{",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "simfleet", False)]:
        root.removeHandler(old)
    handler.simfleet = True
    root.addHandler(handler)
    root.setLevel(app.config["LOG_LEVEL"])
    # Alembic chatters at INFO on import; migration commands raise it again themselves.
    logging.getLogger("alembic").setLevel(logging.WARNING)


def register_request_logging(app: Flask) -> None:
    """Give each request an id (echoed as X-Request-ID) and log one line when it ends."""

    @app.before_request
    def start_request():
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if REQUEST_ID_PATTERN.match(incoming) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def log_request(response):
        request_id = g.get("request_id") or uuid.uuid4().hex
        response.headers["X-Request-ID"] = request_id
        duration = time.perf_counter() - g.get("request_started", time.perf_counter())
        duration_ms = duration * 1000
        if not request.path.startswith(UNTRACKED_PATHS):
            route = request.url_rule.rule if request.url_rule else "unmatched"
            REQUEST_DURATION.labels(request.method, route, response.status_code).observe(duration)
        user_id = current_user.get_id() if current_user and current_user.is_authenticated else None
        fields = {
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": round(duration_ms, 2),
            "request_id": request_id,
            "user_id": user_id,
        }
        request_logger.info(
            "%s %s %s %.1fms request_id=%s user_id=%s",
            request.method, request.path, response.status_code, duration_ms, request_id, user_id,
            extra=fields,
        )  # fmt: skip
        return response


def watch_database_pool(engine: sa.Engine) -> None:
    """Keep the pool gauges current as connections are checked out and in."""
    pool = engine.pool
    if not isinstance(pool, sa.QueuePool):
        return
    # `_max_overflow` has no public accessor; -1 (no limit) counts as none here.
    POOL_CAPACITY.set(pool.size() + max(getattr(pool, "_max_overflow", 0), 0))

    # Counted here: during the checkin event the pool still counts the connection as out.
    in_use = peak = 0
    counting = threading.Lock()  # Gunicorn's threads share the pool

    def checked_out(*_args: object) -> None:
        nonlocal in_use, peak
        with counting:
            in_use += 1
            peak = max(peak, in_use)
            POOL_IN_USE.set(in_use)
            POOL_PEAK_IN_USE.set(peak)

    def checked_in(*_args: object) -> None:
        nonlocal in_use
        with counting:
            in_use = max(in_use - 1, 0)
            POOL_IN_USE.set(in_use)

    sa.event.listen(pool, "checkout", checked_out)
    sa.event.listen(pool, "checkin", checked_in)


def configure_metrics(app: Flask) -> None:
    """Set up the exporter that renders every metric, across Gunicorn workers when needed.

    Request metrics are our own (above): the exporter's defaults register once per process,
    so a second app in the same process (tests) would silently record nothing.
    """
    exporter = (
        GunicornInternalPrometheusMetrics
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        else PrometheusMetrics
    )
    metrics = exporter.for_app_factory(path=None, export_defaults=False)
    metrics.init_app(app)
    app.extensions["metrics"] = metrics
    with app.app_context():
        watch_database_pool(db.engine)
