"""Health checks and the Prometheus scrape endpoint."""

import hmac

from flask import abort, current_app, jsonify, request
from prometheus_client import CollectorRegistry, generate_latest

from webapp.alerts.metrics import AlertCollector
from webapp.extensions import csrf, limiter
from webapp.ops import bp
from webapp.ops.services import RedisCollector, readiness
from webapp.sync.metrics import SyncCollector

csrf.exempt(bp)
limiter.exempt(bp)


@bp.get("/health")
def health():
    """The app answers."""
    return jsonify(status="ok")


@bp.get("/health/live")
def live():
    """The process is alive (for container health checks; touches no dependency)."""
    return jsonify(status="ok")


@bp.get("/health/ready")
def ready():
    """200 only when PostgreSQL and Redis answer and the schema is at the migration head."""
    ok, body = readiness()
    return jsonify(body), 200 if ok else 503


@bp.get("/metrics")
@bp.get("/api/v1/metrics", endpoint="api_metrics")
def metrics():
    """Prometheus metrics, behind a bearer token when METRICS_TOKEN is set.

    Without Redis the queue depths are left out and `simfleet_redis_up` is 0; the rest is
    served as usual.
    """
    token = current_app.config["METRICS_TOKEN"]
    if token:
        sent = request.headers.get("Authorization", "")
        if not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
            abort(401)
    body, content_type = current_app.extensions["metrics"].generate_metrics(
        request.headers.get("Accept")
    )
    state = CollectorRegistry(auto_describe=False)
    state.register(SyncCollector())
    state.register(AlertCollector())
    state.register(RedisCollector())
    body = body + generate_latest(state).decode()
    return body, 200, {"Content-Type": content_type, "Cache-Control": "no-store"}
