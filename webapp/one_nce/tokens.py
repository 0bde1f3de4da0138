"""One OAuth token per 1NCE account, shared by every process and thread through Redis.

The token lives under a Redis key that expires with it. Whoever finds it missing, about to
expire, or rejected takes a Redis lock and fetches a new one; everyone else waits on the lock
and then reuses what the winner stored, so concurrent refreshes collapse into one call.
The lock lives LOCK_SECONDS and the refreshing process renews it while its call runs, so a
process killed mid-refresh holds up the others for seconds, not for the whole retry budget.
"""

import base64
import json
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any, Self

import redis as redis_lib
from redis.exceptions import LockError, LockNotOwnedError
from redis.lock import Lock

from webapp.one_nce.errors import OneNceError, OneNceUnavailable
from webapp.one_nce.metrics import TOKEN_REFRESHES
from webapp.one_nce.parsing import RecordError, read_decimal, read_text, require

DEFAULT_TOKEN_LIFETIME = 3600.0
# How long the refresh lock outlives a killed holder; renewed every third of it while alive.
LOCK_SECONDS = 15.0
# Long runs of base64/JWT characters: tokens, never part of 1NCE's human-readable messages.
_TOKEN_SHAPED = re.compile(r"[A-Za-z0-9+/=_.-]{40,}")


@dataclass(frozen=True, slots=True, repr=False)
class Grant:
    """An access token and how many seconds it stays valid."""

    access_token: str
    expires_in: float

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> Self:
        """Parse the token endpoint's answer (`expires_in` defaults to 1 h when missing)."""
        token = require(read_text(data, "access_token"), "access_token")
        if not token.strip():
            raise RecordError("access_token: empty")
        lifetime = read_decimal(data, "expires_in")
        if lifetime is not None and lifetime <= 0:
            raise RecordError("expires_in: not positive")
        return cls(token, float(lifetime) if lifetime else DEFAULT_TOKEN_LIFETIME)


class SharedToken:
    """The account's bearer token, cached in Redis and refreshed by one process at a time."""

    def __init__(
        self,
        redis: redis_lib.Redis,
        *,
        key: str,
        fetch: Callable[[], Grant],
        lock_timeout: float,
        refresh_margin: float = 120.0,
        lock_seconds: float = LOCK_SECONDS,
    ) -> None:
        self._redis = redis
        self._key = key
        self._fetch = fetch
        self._lock_timeout = lock_timeout
        self._refresh_margin = refresh_margin
        self._lock_seconds = lock_seconds

    def get(self) -> str:
        """A valid token: the shared one, or a new one when it is missing or about to expire."""
        token, remaining, lifetime = self._read()
        if token is not None and remaining > self._margin(lifetime):
            return token
        return self._renew(stale=None, current=token, reason="expiring" if token else "missing")

    def renew(self, *, rejected: str) -> str:
        """Replace a token 1NCE rejected, unless another process has done so already."""
        token, _, _ = self._read()
        return self._renew(stale=rejected, current=token, reason="rejected")

    def _renew(self, *, stale: str | None, current: str | None, reason: str) -> str:
        # Waiters wait as long as a refresh with all its retries may take; the lock itself
        # expires soon after its holder dies. Not thread-local: the renewing thread owns it too.
        lock = self._redis.lock(
            f"{self._key}:lock",
            timeout=self._lock_seconds,
            blocking_timeout=self._lock_timeout,
            thread_local=False,
        )
        # A still-valid token keeps being used while another process refreshes it.
        usable = current if current != stale else None
        if not lock.acquire(blocking=usable is None):
            if usable is not None:
                return usable
            raise OneNceUnavailable("timed out waiting for another process's token refresh")
        try:
            with _renewed(lock, every=self._lock_seconds / 3):
                return self._fetch_unless_renewed(stale=stale, reason=reason)
        finally:
            # The lock may have expired during a very slow fetch; the token is stored anyway.
            with suppress(LockNotOwnedError):
                lock.release()

    def _fetch_unless_renewed(self, *, stale: str | None, reason: str) -> str:
        token, remaining, lifetime = self._read()
        if token is not None and token != stale and remaining > self._margin(lifetime):
            TOKEN_REFRESHES.labels(reason=reason, outcome="reused").inc()
            return token
        try:
            grant = self._fetch()
        except OneNceError:
            TOKEN_REFRESHES.labels(reason=reason, outcome="failed").inc()
            raise
        TOKEN_REFRESHES.labels(reason=reason, outcome="fetched").inc()
        value = json.dumps({"token": grant.access_token, "lifetime": grant.expires_in})
        self._redis.set(self._key, value, px=max(1, int(grant.expires_in * 1000)))
        return grant.access_token

    def _read(self) -> tuple[str | None, float, float]:
        """The shared token, its remaining and total lifetime in seconds (Redis clock)."""
        with self._redis.pipeline(transaction=False) as pipe:
            pipe.get(self._key)
            pipe.pttl(self._key)
            raw, remaining_ms = pipe.execute()
        if raw is None or remaining_ms <= 0:
            return None, 0.0, 0.0
        stored = json.loads(raw)
        return stored["token"], remaining_ms / 1000, float(stored["lifetime"])

    def _margin(self, lifetime: float) -> float:
        """Refresh this long before expiry; short-lived tokens get a proportionate margin."""
        return min(self._refresh_margin, lifetime / 5)


def redact(text: str, secret: str) -> str:
    """Mask the client secret and anything token-shaped in text bound for a log or exception."""
    if secret:
        text = text.replace(secret, "[redacted]")
    return _TOKEN_SHAPED.sub("[redacted]", text)


@contextmanager
def _renewed(lock: Lock, *, every: float) -> Iterator[None]:
    """Keep `lock` from expiring while the block runs (a daemon thread resets its TTL)."""
    done = threading.Event()

    def renew() -> None:
        while not done.wait(every):
            try:
                lock.reacquire()
            except LockError:
                return  # lost it (expired or taken over): nothing left to renew

    thread = threading.Thread(target=renew, name="token-lock", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


class BasicAuth:
    """Client credentials for the token endpoint, which never retries on 401."""

    def __init__(self, client_id: str, client_secret: str) -> None:
        pair = f"{client_id}:{client_secret}".encode()
        self._header = "Basic " + base64.b64encode(pair).decode("ascii")
        self._secret = client_secret

    def __repr__(self) -> str:
        return "BasicAuth([redacted])"

    def header(self) -> str:
        """The Basic Authorization header."""
        return self._header

    def renew(self, rejected: str) -> bool:
        """Refused credentials stay refused."""
        return False

    def scrub(self, text: str) -> str:
        """Mask credentials in `text`."""
        return redact(text, self._secret)


class BearerAuth:
    """The shared bearer token; a 401 renews it once per call."""

    def __init__(self, token: SharedToken, client_secret: str) -> None:
        self._token = token
        self._secret = client_secret

    def __repr__(self) -> str:
        return "BearerAuth([redacted])"

    def header(self) -> str:
        """The Bearer Authorization header with a valid shared token."""
        return "Bearer " + self._token.get()

    def renew(self, rejected: str) -> bool:
        """Replace the rejected token (or pick up the one another process just fetched)."""
        self._token.renew(rejected=rejected.removeprefix("Bearer "))
        return True

    def scrub(self, text: str) -> str:
        """Mask credentials in `text`."""
        return redact(text, self._secret)
