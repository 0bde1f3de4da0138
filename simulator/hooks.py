"""The gateway in front of both API versions (stats, retirement, faults, limits, tokens) and
the error bodies each version's backend answers with."""

import time

from flask import Flask, Response, g, request

from simulator import controls, oauth, views, views_v2
from simulator.common import (
    API_PREFIX,
    CATALOG_PREFIXES,
    EXPIRED_MESSAGE,
    SIMS_PREFIXES,
    TOKEN_PATH,
    ApiError,
    ExpiredSim,
    api_version,
    gateway,
)
from simulator.gateway import Gateway
from simulator.responses import (
    empty,
    gateway_message,
    html_503,
    json_response,
    spring_error,
    v2_error,
)

V1_RETIRED = "API v1 has been retired; use /v2"


def register(app: Flask) -> None:
    """Attach the token endpoint, both API versions, controls, gateway hooks, error handlers."""
    app.register_blueprint(oauth.oauth)
    app.register_blueprint(views.api)
    app.register_blueprint(views_v2.api)
    app.register_blueprint(controls.control)
    app.before_request(gateway_checks)
    app.after_request(count_status)
    app.after_request(truncate_answer)
    app.register_error_handler(ApiError, api_error)
    app.register_error_handler(ExpiredSim, expired_sim)
    app.register_error_handler(404, lambda error: backend_error(404, "Not Found"))
    app.register_error_handler(405, method_not_allowed)


def backend_error(status: int, message: str, v2_message: str | None = None) -> Response:
    """An error as the backend of the request's API version words it."""
    if api_version(request.path) == "v2":
        return v2_error(status, "Element not found" if status == 404 else v2_message or message)
    return spring_error(status, message)


def api_error(error: ApiError) -> Response:
    """A view's refusal."""
    return backend_error(error.status, error.message, error.v2_message)


def expired_sim(error: ExpiredSim) -> Response:
    """v1 answers an empty 422, v2 a 409 Conflict."""
    if api_version(request.path) == "v2":
        return v2_error(409, EXPIRED_MESSAGE)
    return empty(422)


def method_not_allowed(error: Exception) -> Response:
    """v2 routes only its declared operations, so v1-only ones (bulk update...) are not found."""
    if api_version(request.path) == "v2":
        return backend_error(404, "Not Found")
    return spring_error(405, "Method Not Allowed")


# Gateway: stats, retirement, faults, rate limits and bearer tokens, in the order a request
# meets them


def gateway_checks() -> Response | None:
    """Count the request, refuse retired v1, inject faults, enforce limits and authentication."""
    path = request.path
    if not path.startswith(API_PREFIX):
        return None
    state = gateway()
    rule = request.url_rule.rule.removeprefix(API_PREFIX) if request.url_rule else "unmatched"
    version = api_version(path)
    state.record_request(
        f"{request.method} {rule}",
        version=version,
        sims=path.startswith(SIMS_PREFIXES),
        token=path == TOKEN_PATH,
    )
    if version == "v1" and state.faults.v1_retired:
        return json_response({"message": V1_RETIRED}, 410)
    if state.faults.slow_ms:
        time.sleep(state.faults.slow_ms / 1000)
    fault = injected_fault(state)
    if fault is not None:
        return fault
    if path == TOKEN_PATH:
        allowed = state.oauth_limiter.allow(request.remote_addr or "")
        return None if allowed else gateway_message(429, "Too Many Requests")
    if request.url_rule is None:
        return None
    return authenticate(state, path)


def injected_fault(state: Gateway) -> Response | None:
    """The failure chosen for this request by the fault settings, if any."""
    fault = state.pick_fault()
    if fault == "error_rate":
        return backend_error(500, "Internal Server Error")
    if fault == "html_503_rate":
        return html_503()
    if fault == "empty_500_rate":
        return empty(500)
    if fault == "status_429_rate":
        return gateway_message(429, "Too Many Requests")
    # The request goes through; `truncate_answer` cuts its answer on the way out.
    g.truncate_answer = fault == "truncated_rate"
    return None


def authenticate(state: Gateway, path: str) -> Response | None:
    """Bearer check, then the per-customer /sims limit or the per-IP catalog limit."""
    header = request.headers.get("Authorization", "")
    if not header:
        return Response(b"", 401)
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return spring_error(401, "The token is invalid: Illegal base64 character 20")
    client_id, problem = state.tokens.client_of(token.strip())
    if client_id is None:
        return spring_error(401, problem)
    if path.startswith(SIMS_PREFIXES):
        allowed = state.sims_limiter.allow(client_id)
    elif path.startswith(CATALOG_PREFIXES):
        allowed = state.catalog_limiter.allow(request.remote_addr or "")
    else:
        allowed = True
    return None if allowed else gateway_message(429, "Too Many Requests")


def truncate_answer(response: Response) -> Response:
    """Cut a 200's body in half when the `truncated_rate` fault picked this request."""
    body = response.get_data() if g.get("truncate_answer") and response.status_code == 200 else b""
    if body:
        response.set_data(body[: len(body) // 2])
    return response


def count_status(response: Response) -> Response:
    """Count the response status of API requests."""
    if request.path.startswith(API_PREFIX):
        gateway().record_status(response.status_code)
    return response
