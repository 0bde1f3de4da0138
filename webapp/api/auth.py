"""API-key authentication: who is calling, the per-key rate-limit key, and scope checks."""

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from flask import current_app, request
from flask_limiter.util import get_remote_address

from webapp.api.problems import ApiProblem
from webapp.apikeys.services import find_api_key, update_api_key_last_used
from webapp.extensions import limiter

CALLER = "simfleet.api_caller"


@dataclass(frozen=True)
class ApiCaller:
    """The key a request was authenticated with."""

    key_id: int
    name: str
    prefix: str
    scope: str

    @property
    def label(self) -> str:
        """How the caller appears in the audit log."""
        return f"api key {self.name} ({self.prefix})"


def presented_key() -> str | None:
    """The key sent as `Authorization: Bearer <key>` or `X-API-Key: <key>`."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.headers.get("X-API-Key", "").strip() or None


def current_caller() -> ApiCaller | None:
    """The caller of this request (looked up once per request), or None without a usable key."""
    # Kept on the request, not on `g`: an app context may outlive a request (tests, CLI).
    if CALLER not in request.environ:
        presented = presented_key()
        key = find_api_key(presented) if presented else None
        request.environ[CALLER] = key and ApiCaller(key.id, key.name, key.prefix, key.scope)
        if key is not None:
            update_api_key_last_used(key=key)
    return request.environ[CALLER]


def rate_limit_key() -> str:
    """Requests are limited per key; those without a usable key per client address."""
    caller = current_caller()
    return f"apikey:{caller.prefix}" if caller else f"ip:{get_remote_address()}"


def require_key() -> None:
    """Refuse a request without a usable key (missing, unknown, revoked or expired): 401."""
    if current_caller() is None:
        raise ApiProblem(401, "Send a valid API key as `Authorization: Bearer <key>`.")


def write_scope(view: Callable) -> Callable:
    """Allow a view only to write keys (403 for read keys), under the write rate limit too."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if current_caller().scope != "write":
            raise ApiProblem(403, "This route needs a key with the write scope.")
        return view(*args, **kwargs)

    limit = limiter.shared_limit(
        lambda: current_app.config["API_WRITE_RATE_LIMIT"],
        scope="api-write",
        key_func=rate_limit_key,
        override_defaults=False,
    )
    return limit(wrapped)
