"""HTTP to 1NCE: one Session per process, pacing and retries per attempt, typed errors.

Retries run here rather than inside urllib3's `Retry`: urllib3 would repeat a request from
within the connection pool, out of sight of the shared Redis pacer, so retries after a 429 or
an outage would burst against the very rate limit that caused them, and it cannot renew an
OAuth token on 401. The loop below uses the same policy urllib3 would (exponential backoff
with jitter, Retry-After honoured, idempotent methods only) but takes a pacer slot before
every attempt.
"""

import logging
import os
import random
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Protocol
from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from webapp.one_nce.errors import (
    OneNceAuthError,
    OneNceError,
    OneNceMalformedResponse,
    OneNceNotFound,
    OneNceRateLimited,
    OneNceRejected,
    OneNceTimeout,
    OneNceUnavailable,
)
from webapp.one_nce.metrics import CALLS, LATENCY, RATE_LIMITED, RETRIES
from webapp.one_nce.pacing import RedisPacer

logger = logging.getLogger("simfleet.one_nce")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
USER_AGENT = "simfleet/1"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently to repeat a failed call."""

    retries: int = 4
    backoff: float = 0.5
    backoff_max: float = 30.0
    retry_after_max: float = 120.0

    def delay(self, retry: int) -> float:
        """Seconds before retry number `retry` (1-based): doubling and capped, with jitter."""
        ceiling = min(self.backoff_max, self.backoff * 2 ** (retry - 1))
        return random.uniform(ceiling / 2, ceiling)


@dataclass(frozen=True, slots=True)
class Call:
    """One API operation: `endpoint` is the templated path, also used as the metrics label."""

    method: str
    endpoint: str
    path_params: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, Any] | None = None
    json: Any = None
    group: str = "sims"
    # A non-idempotent method that may still be repeated (setting values, fetching a token).
    repeatable: bool = False

    @property
    def path(self) -> str:
        """The endpoint with its parameters filled in, each URL-quoted."""
        return self.endpoint.format(**{k: quote(v, safe="") for k, v in self.path_params.items()})

    @property
    def label(self) -> str:
        """`METHOD /templated/path`, the same for every SIM."""
        return f"{self.method} {self.endpoint}"

    @property
    def may_repeat(self) -> bool:
        """Whether the call may be sent again after it may have reached 1NCE."""
        return self.method in IDEMPOTENT_METHODS or self.repeatable


class Auth(Protocol):
    """Produces the Authorization header and reacts when 1NCE rejects it."""

    def header(self) -> str:
        """The Authorization header value for the next attempt."""

    def renew(self, rejected: str) -> bool:
        """Replace a rejected credential; True when a new attempt makes sense."""

    def scrub(self, text: str) -> str:
        """Remove any credential from text bound for a log line or an exception."""


class _ProcessSession:
    """One requests.Session per process: connection pools must not be shared across a fork."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._session: requests.Session | None = None
        os.register_at_fork(after_in_child=self._forget)

    def get(self) -> requests.Session:
        """This process's session, created on first use."""
        with self._lock:
            if self._session is None or self._pid != os.getpid():
                self._session, self._pid = _build_session(), os.getpid()
            return self._session

    def _forget(self) -> None:
        self._lock = threading.Lock()
        self._session = self._pid = None


def _build_session() -> requests.Session:
    session = requests.Session()
    # Retries happen in Transport.send, through the pacer; the pool itself never repeats.
    # read=False lets a read timeout surface as requests' ReadTimeout, not a ConnectionError.
    adapter = HTTPAdapter(pool_maxsize=32, max_retries=Retry(total=0, read=False))
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json"})
    return session


process_session = _ProcessSession()


class Transport:
    """Sends Calls to one 1NCE base URL: paced, retried, and mapped to typed errors."""

    def __init__(
        self,
        *,
        base_url: str,
        pacers: Mapping[str, RedisPacer],
        connect_timeout: float,
        read_timeout: float,
        retry: RetryPolicy,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._pacers = pacers
        self._timeout = (connect_timeout, read_timeout)
        self._retry = retry

    def send(self, call: Call, *, auth: Auth) -> requests.Response:
        """Send `call` until it succeeds or retrying is pointless; non-2xx raise OneNceError."""
        retry = 0
        renewed = False
        while True:
            credential = auth.header()
            self._pacers[call.group].acquire()
            try:
                response = self._exchange(call, credential)
            except requests.RequestException as exc:
                if not self._may_retry_after_error(call, exc, retry):
                    raise _transport_error(call, exc) from None
                retry += 1
                self._before_retry(call, type(exc).__name__, delay=self._retry.delay(retry))
                continue
            if response.status_code == 401 and not renewed and auth.renew(credential):
                renewed = True
                RETRIES.labels(endpoint=call.label, reason="401").inc()
                continue
            if response.status_code in RETRY_STATUSES and self._retry_status(call, response, retry):
                retry += 1
                continue
            return _check(call, response, auth)

    def _exchange(self, call: Call, credential: str) -> requests.Response:
        """One HTTP attempt, counted and timed."""
        started = time.perf_counter()
        outcome = "error"
        try:
            response = process_session.get().request(
                call.method,
                self.base_url + call.path,
                params=call.params,
                json=call.json,
                headers={"Authorization": credential},
                timeout=self._timeout,
                allow_redirects=False,
            )
            outcome = str(response.status_code)
            return response
        except requests.Timeout:
            outcome = "timeout"
            raise
        finally:
            CALLS.labels(endpoint=call.label, status=outcome).inc()
            LATENCY.labels(endpoint=call.label).observe(time.perf_counter() - started)

    def _may_retry_after_error(self, call: Call, exc: Exception, retry: int) -> bool:
        if retry >= self._retry.retries:
            return False
        if isinstance(exc, requests.ConnectTimeout):
            return True  # never reached 1NCE, so even a top-up may be sent again
        transient = (
            requests.ConnectionError,
            requests.Timeout,
            requests.exceptions.ChunkedEncodingError,
        )
        return isinstance(exc, transient) and call.may_repeat

    def _retry_status(self, call: Call, response: requests.Response, retry: int) -> bool:
        """Back off after a retryable status; False when the call should not be repeated."""
        status = response.status_code
        hinted = retry_after_seconds(response)
        delay = min(hinted or self._retry.delay(retry + 1), self._retry.retry_after_max)
        if status == 429:
            RATE_LIMITED.labels(endpoint=call.label).inc()
            # Every worker holds back, not just this one: the next acquire() waits it out.
            self._pacers[call.group].slow_down(pause=delay)
        if retry >= self._retry.retries or (hinted or 0) > self._retry.retry_after_max:
            return False
        # A 429 is refused before 1NCE acts on it, so any call may be repeated.
        if status != 429 and not call.may_repeat:
            return False
        self._before_retry(call, str(status), delay=delay, sleep=status != 429)
        return True

    def _before_retry(self, call: Call, reason: str, *, delay: float, sleep: bool = True) -> None:
        RETRIES.labels(endpoint=call.label, reason=reason).inc()
        logger.warning("1NCE %s failed (%s), retrying in %.2f s", call.label, reason, delay)
        if sleep:
            time.sleep(delay)


def retry_after_seconds(response: requests.Response) -> float | None:
    """The Retry-After header in seconds (delta or HTTP date), or None."""
    raw = response.headers.get("Retry-After", "").strip()
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


def _transport_error(call: Call, exc: requests.RequestException) -> OneNceError:
    """The typed error for a call that got no HTTP answer (the URL holds no secrets)."""
    if isinstance(exc, requests.Timeout):
        return OneNceTimeout(f"no answer in time ({type(exc).__name__})", endpoint=call.label)
    return OneNceUnavailable(f"no connection ({type(exc).__name__})", endpoint=call.label)


def _check(call: Call, response: requests.Response, auth: Auth) -> requests.Response:
    """Return a 2xx response; raise the typed error for anything else."""
    status = response.status_code
    if 200 <= status < 300:
        return response
    text, token = error_body(response)
    message = auth.scrub(text)
    if status == 429:
        raise OneNceRateLimited(
            message, endpoint=call.label, retry_after=retry_after_seconds(response)
        )
    error = _error_type(status, token)
    raise error(message, endpoint=call.label, status=status, error_token=token)


def _error_type(status: int, token: str | None) -> type[OneNceError]:
    """The typed error for a non-2xx status, refined by v2's `error_token` (never its code)."""
    if status == 401:
        return OneNceAuthError
    if status == 404:
        # v2 says NotFound for an unknown SIM; a 404 naming another kind is a refused request.
        return OneNceNotFound if token in (None, "NotFound") else OneNceRejected
    return OneNceUnavailable if status >= 500 else OneNceRejected


def error_body(response: requests.Response) -> tuple[str, str | None]:
    """A short description of an error body (its `message` when JSON) and v2's `error_token`."""
    if not response.content:
        return "empty body", None
    try:
        body = response.json()
    except ValueError:
        kind = response.headers.get("Content-Type", "unknown").split(";")[0]
        return f"non-JSON error body ({kind})", None
    if not isinstance(body, Mapping):
        return "unrecognised error body", None
    raw_token = body.get("error_token")
    token = str(raw_token)[:40] if raw_token else None
    # Token errors say errorCode, v2 error_token, Spring error; all of them say message.
    parts = (body.get(key) for key in ("errorCode", "error_token", "error", "message"))
    text = ": ".join(dict.fromkeys(str(part) for part in parts if part))
    return (text[:300] or "unrecognised error body"), token


def decode_json(call: Call, response: requests.Response, *, empty_is_not_found: bool) -> Any:
    """The JSON body; an empty 200 means "unknown ICCID" where 1NCE (v1) answers that way."""
    if not response.content.strip():
        if empty_is_not_found:
            raise OneNceNotFound(
                "empty body (unknown ICCID)", endpoint=call.label, status=response.status_code
            )
        raise OneNceMalformedResponse(
            "empty body", endpoint=call.label, status=response.status_code
        )
    try:
        return response.json()
    except ValueError:
        kind = response.headers.get("Content-Type", "unknown").split(";")[0]
        raise OneNceMalformedResponse(
            f"body is not JSON ({kind})", endpoint=call.label, status=response.status_code
        ) from None


def header_int(response: requests.Response, name: str) -> int | None:
    """A whole-number response header (paging), or None when missing or garbled."""
    raw = response.headers.get(name, "").strip()
    return int(raw) if raw.isdigit() else None


def fill(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """The mapping without its None values (optional query parameters)."""
    return {key: value for key, value in mapping.items() if value is not None}
