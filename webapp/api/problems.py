"""RFC 9457 problem responses with a stable `type` per kind of error."""

import json

from flask import Response
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from webapp.errors import (
    BUSY,
    UNAVAILABLE_RETRY_AFTER_SECONDS,
    DatabaseUnavailable,
    RedisUnavailable,
    ServerBusy,
)
from webapp.one_nce import OneNceError, OneNceNotConfigured, OneNceRateLimited, OneNceUnavailable

PROBLEM_TYPES = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Unauthorized"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    413: ("too-large", "Request too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("validation-error", "Validation error"),
    429: ("rate-limited", "Too many requests"),
    500: ("internal-error", "Internal server error"),
    502: ("upstream-error", "1NCE refused or failed the request"),
    503: ("upstream-unavailable", "1NCE is unavailable"),
}
TYPE_PREFIX = "urn:simfleet:problem:"
# Simfleet's own stores (PostgreSQL; Redis: rate limits, key changes, queues) are down: a 503
# of its own type, apart from 1NCE's, so a script can tell whom to wait for.
UNAVAILABLE = ("unavailable", "Simfleet is unavailable")
REDIS_DOWN = "Simfleet cannot reach its Redis (rate limits, API keys, queues); try again shortly."
DATABASE_DOWN = "Simfleet cannot reach its database (PostgreSQL); try again shortly."


class ApiProblem(Exception):
    """An error answered as a problem; `extra` members (e.g. `field`) join the body."""

    def __init__(
        self, status: int, detail: str, *, headers: dict | None = None, **extra: object
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra


def problem_type(status: int) -> str:
    """The stable type URI of a status' problems."""
    slug, _ = PROBLEM_TYPES.get(status, PROBLEM_TYPES[500 if status >= 500 else 400])
    return TYPE_PREFIX + slug


def problem_response(
    status: int, detail: str, *, headers: dict | None = None, **extra: object
) -> Response:
    """An application/problem+json response."""
    _, title = PROBLEM_TYPES.get(status, (None, "Error"))
    body = {"type": problem_type(status), "title": title, "status": status, "detail": detail}
    response = Response(
        json.dumps(body | extra), status=status, mimetype="application/problem+json"
    )
    response.headers.update(headers or {})
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="simfleet"'
    return response


def unavailable_response(detail: str) -> Response:
    """503 problem for a request that needs Redis or PostgreSQL while it cannot be reached."""
    slug, title = UNAVAILABLE
    body = {"type": TYPE_PREFIX + slug, "title": title, "status": 503, "detail": detail}
    return Response(
        json.dumps(body),
        status=503,
        mimetype="application/problem+json",
        headers={"Retry-After": str(UNAVAILABLE_RETRY_AFTER_SECONDS)},
    )


def from_api_problem(error: ApiProblem) -> Response:
    """Answer an ApiProblem."""
    return problem_response(error.status, error.detail, headers=error.headers, **error.extra)


def from_http_exception(error: HTTPException) -> Response:
    """Answer a werkzeug HTTP error (405, 429 from the limiter...) as a problem."""
    if isinstance(error, RedisUnavailable):
        return unavailable_response(REDIS_DOWN)
    if isinstance(error, DatabaseUnavailable):
        return unavailable_response(DATABASE_DOWN)
    if isinstance(error, ServerBusy):
        return unavailable_response(BUSY)
    response = problem_response(error.code or 500, error.description or error.name)
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


def from_once_error(error: OneNceError) -> ApiProblem:
    """The problem to answer for a failed 1NCE call: 503 when worth retrying, 502 otherwise."""
    if isinstance(error, OneNceNotConfigured):
        return ApiProblem(503, "No 1NCE account is configured.")
    if isinstance(error, OneNceRateLimited):
        retry = str(max(1, round(error.retry_after or 10)))
        return ApiProblem(
            503, "1NCE is rate limiting; try again later.", headers={"Retry-After": retry}
        )
    if isinstance(error, OneNceUnavailable):
        return ApiProblem(
            503, "1NCE could not be reached; try again later.", headers={"Retry-After": "30"}
        )
    return ApiProblem(502, f"1NCE did not accept the request: {error.message}")
