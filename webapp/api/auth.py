"""API-key authentication and rate limiting: who is calling, under which limits, in what scope.

Verified keys are cached in the process for KEY_CACHE_SECONDS, keyed by a hash of the key
sent. A cached key is trusted only while the API-key change token in Redis is the one it was
cached under: every committed revocation, expiry or scope change replaces the token, and the
rate-limit round trip that every request makes anyway reads it. So a revoked key is refused
on its next request in every process, while an unchanged key costs no database query.
"""

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import wraps

from flask import Flask, Response, current_app, request
from flask_limiter.util import get_remote_address

from webapp.api import ratelimit
from webapp.api.problems import ApiProblem
from webapp.apikeys.services import (
    CHANGE_TOKEN_KEY,
    LAST_USED_RESOLUTION,
    find_api_key,
    get_api_key_change_token,
    update_api_key_last_used,
)
from webapp.models.base import utcnow

CALLER = "simfleet.api_caller"
ADMISSION = "simfleet.api_admission"
CACHE_EXTENSION = "simfleet.api_key_cache"
# Shorter than LAST_USED_RESOLUTION, so last use is decided on a fresh row at least that often;
# also the bound for changes made behind the ORM's back (raw SQL), which announce nothing.
KEY_CACHE_SECONDS = 30
KEY_CACHE_SIZE = 1000


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


@dataclass
class CachedKey:
    """A verified key, the change token it was read under, and when it was last recorded."""

    caller: ApiCaller
    expires_at: datetime | None
    last_used_at: datetime | None
    token: bytes | None
    cached_at: float


class KeyCache:
    """This process's verified keys, by the SHA-256 of the key sent."""

    def __init__(self) -> None:
        self._entries: dict[bytes, CachedKey] = {}
        self._lock = threading.Lock()

    def get(self, digest: bytes) -> CachedKey | None:
        """The cached key, unless it is stale or has expired since."""
        entry = self._entries.get(digest)
        if entry is None or time.monotonic() - entry.cached_at > KEY_CACHE_SECONDS:
            return None
        if entry.expires_at and entry.expires_at <= utcnow():
            return None
        return entry

    def put(self, digest: bytes, entry: CachedKey) -> None:
        """Cache a verified key (starting afresh when full: keys are few, churn is rare)."""
        with self._lock:
            if len(self._entries) >= KEY_CACHE_SIZE:
                self._entries.clear()
            self._entries[digest] = entry

    def clear(self) -> None:
        """Forget every key."""
        with self._lock:
            self._entries.clear()


def init_app(app: Flask) -> None:
    """Give the app its key cache and its rate-limit script."""
    app.extensions[CACHE_EXTENSION] = KeyCache()
    ratelimit.register_script(app)


def presented_key() -> str | None:
    """The key sent as `Authorization: Bearer <key>` or `X-API-Key: <key>`."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.headers.get("X-API-Key", "").strip() or None


def admit_request(*, write: bool) -> None:
    """Authenticate the request's key and count it against its rate limits (429 when over)."""
    presented = presented_key()
    digest = hashlib.sha256(presented.encode()).digest() if presented else None
    cache: KeyCache = current_app.extensions[CACHE_EXTENSION]
    entry = cache.get(digest) if digest else None
    if presented and digest and entry is None:
        # Read the token before the row: a change committed in between then shows as a new token.
        entry = _verify(presented, digest, token=get_api_key_change_token())
    scopes = ("API_RATE_LIMIT", "API_WRITE_RATE_LIMIT") if write else ("API_RATE_LIMIT",)
    admission = _count(entry, scopes)
    if entry is not None and admission.token != entry.token:
        cache.clear()
        # Only a presented key has an entry.
        assert presented is not None and digest is not None
        entry = _verify(presented, digest, token=admission.token)
        if entry is None:
            admission = _count(None, scopes)
    request.environ[CALLER] = entry and entry.caller
    request.environ[ADMISSION] = admission
    if entry is not None:
        _record_use(entry)
    admission.check()


def add_rate_limit_headers(response: Response) -> Response:
    """X-RateLimit-Limit, -Remaining and -Reset of the request's tightest limit."""
    admission = request.environ.get(ADMISSION)
    if admission is not None:
        response.headers.update(admission.headers())
    return response


def current_caller() -> ApiCaller | None:
    """The caller of this request, or None without a usable key."""
    # Kept on the request, not on `g`: an app context may outlive a request (tests, CLI).
    return request.environ.get(CALLER)


def require_key() -> None:
    """Refuse a request without a usable key (missing, unknown, revoked or expired): 401."""
    if current_caller() is None:
        raise ApiProblem(401, "Send a valid API key as `Authorization: Bearer <key>`.")


def write_scope(view: Callable) -> Callable:
    """Allow a view only to write keys (403 for read keys), under the write rate limit too."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        caller = current_caller()
        assert caller is not None, "the blueprint's require_key ran first"
        if caller.scope != "write":
            raise ApiProblem(403, "This route needs a key with the write scope.")
        return view(*args, **kwargs)

    # A marker that is_write_route reads; mypy does not model attributes set on functions.
    wrapped.write_scope = True  # type: ignore[attr-defined]
    return wrapped


def is_write_route() -> bool:
    """Whether this request goes to a write_scope view."""
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, "write_scope", False)


def _verify(presented: str, digest: bytes, *, token: bytes | None) -> CachedKey | None:
    row = find_api_key(presented)
    if row is None:
        return None
    entry = CachedKey(
        caller=ApiCaller(row.id, row.name, row.prefix, row.scope),
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
        token=token,
        cached_at=time.monotonic(),
    )
    current_app.extensions[CACHE_EXTENSION].put(digest, entry)
    return entry


def _count(entry: CachedKey | None, scopes: tuple[str, ...]) -> ratelimit.Admission:
    # Limited per key; requests without a usable key per client address.
    identity = f"apikey:{entry.caller.prefix}" if entry else f"ip:{get_remote_address()}"
    return ratelimit.admit(identity=identity, token_key=CHANGE_TOKEN_KEY, scopes=scopes)


def _record_use(entry: CachedKey) -> None:
    now = utcnow()
    if entry.last_used_at is None or now - entry.last_used_at >= LAST_USED_RESOLUTION:
        update_api_key_last_used(key_id=entry.caller.key_id, now=now)
        entry.last_used_at = now
