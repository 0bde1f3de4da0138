"""Error pages for people, JSON problems for machines, and the error of a bad parameter."""

from collections.abc import Callable

import psycopg
import sqlalchemy as sa
from flask import Flask, Response, jsonify, render_template, request
from redis.exceptions import RedisError
from werkzeug.exceptions import HTTPException, ServiceUnavailable

REDIS_DOWN = (
    "Simfleet cannot reach Redis, which holds its job queues and rate limits. Pages that "
    "read only the database keep working; try this again in a minute."
)
DATABASE_DOWN = (
    "Simfleet cannot reach its database (PostgreSQL), which may be restarting; try this "
    "again in a minute."
)
BUSY = "Simfleet is answering more requests than it can right now; try this again in a few seconds."
# How long a client is asked to wait (Retry-After) when Redis or PostgreSQL is down.
UNAVAILABLE_RETRY_AFTER_SECONDS = 10
# app.extensions key: URL prefix -> how errors under it are answered (answer_errors_under).
PATH_ERROR_ANSWERS = "simfleet.path_error_answers"


class RedisUnavailable(ServiceUnavailable):
    """Redis (queues, rate limits, key changes) cannot be reached: degraded, not a bug."""

    description = REDIS_DOWN


class DatabaseUnavailable(ServiceUnavailable):
    """PostgreSQL cannot be reached (down, restarting): degraded, not a bug."""

    description = DATABASE_DOWN


class ServerBusy(ServiceUnavailable):
    """The request waited too long for a free thread: over capacity, shed before any work."""

    description = BUSY


class QueryError(ValueError):
    """A filter, cursor or range is invalid; `field` names the parameter."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


def wants_json() -> bool:
    """True for API and health paths, or when the client prefers JSON over HTML."""
    if request.path.startswith(("/api/", "/health")):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def answer_errors_under(
    app: Flask, prefix: str, answer: Callable[[HTTPException], Response]
) -> None:
    """Answer every HTTP error under `prefix` with `answer`, routing errors included.

    A blueprint's own handlers see only the errors of its routes; a URL or method that
    matches none of them (404, 405) reaches the app's handler, which asks here.
    """
    app.extensions.setdefault(PATH_ERROR_ANSWERS, {})[prefix] = answer


def register_error_handlers(app: Flask) -> None:
    """Answer HTTP errors with a page or an application/problem+json body."""

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException) -> Response:
        code = error.code or 500  # Flask hands over only the exceptions that have a code
        for prefix, answer in app.extensions.get(PATH_ERROR_ANSWERS, {}).items():
            if request.path.startswith(prefix):
                return answer(error)
        if wants_json():
            body = {
                "type": "about:blank",
                "title": error.name,
                "status": code,
                "detail": error.description,
            }
            response = jsonify(body)
            response.status_code = code
            response.content_type = "application/problem+json"
        else:
            response = app.make_response((render_template("errors/error.html", error=error), code))
        return response

    def answer_unavailable(error: ServiceUnavailable) -> Response:
        response = handle_http_error(error)
        response.headers["Retry-After"] = str(UNAVAILABLE_RETRY_AFTER_SECONDS)
        return response

    @app.errorhandler(ServerBusy)
    def handle_busy(error: ServerBusy) -> Response:
        return answer_unavailable(error)

    @app.errorhandler(RedisError)
    def handle_redis_down(error: RedisError) -> Response:
        # Redis down is degraded service, not a bug: 503 with a reason, and a log line saying so.
        app.logger.warning("redis unavailable on %s: %r", request.path, error)
        return answer_unavailable(RedisUnavailable())

    @app.errorhandler(sa.exc.OperationalError)
    @app.errorhandler(psycopg.OperationalError)  # raw driver connections (the API's reads)
    def handle_database_down(error: Exception) -> Response:
        # The driver's OperationalError: the server refused or dropped the connection (a
        # restart, a failover). The pool replaces dead connections by itself once it is back.
        app.logger.warning("database unavailable on %s: %r", request.path, error)
        return answer_unavailable(DatabaseUnavailable())
