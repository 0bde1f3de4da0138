"""The API Gateway in front of 1NCE's backend: tokens, rate limits, faults and request stats."""

import base64
import json
import random
import secrets
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def opaque_token(client_id: str, issued: datetime, ttl: int) -> str:
    """A long opaque token shaped like 1NCE's (base64 JSON wrapping two JWT-like strings)."""

    def jwt(kind: str) -> str:
        header = _b64(json.dumps({"kid": secrets.token_hex(16), "alg": "RS256"}).encode())
        claims = {
            "sub": secrets.token_hex(16),
            "token_use": kind,
            "client_id": client_id,
            "iat": int(issued.timestamp()),
            "exp": int(issued.timestamp()) + ttl,
            "iss": "https://cognito-idp.eu-central-1.amazonaws.com/eu-central-1_simulated",
        }
        return f"{header}.{_b64(json.dumps(claims).encode())}.{_b64(secrets.token_bytes(256))}"

    wrapper = {"idtoken": jwt("id"), "accesstoken": jwt("access")}
    return base64.b64encode(json.dumps(wrapper).encode()).decode()


class TokenStore:
    """Issued bearer tokens and their expiry (on the simulator's clock)."""

    def __init__(self, clock: Callable[[], datetime], ttl: int) -> None:
        self._clock = clock
        self.ttl = ttl
        self._tokens: dict[str, tuple[str, datetime]] = {}
        self._lock = threading.Lock()

    def issue(self, client_id: str) -> str:
        """A new token for the client."""
        now = self._clock()
        token = opaque_token(client_id, now, self.ttl)
        with self._lock:
            self._tokens = {key: value for key, value in self._tokens.items() if value[1] > now}
            self._tokens[token] = (client_id, now + timedelta(seconds=self.ttl))
        return token

    def client_of(self, token: str) -> tuple[str | None, str]:
        """(client id, "") for a valid token, else (None, why it is refused)."""
        with self._lock:
            found = self._tokens.get(token)
        if found is None:
            return None, "The token is invalid: Signature verification failed"
        if found[1] <= self._clock():
            return None, "The token is expired"
        return found[0], ""

    def invalidate_all(self) -> None:
        """Forget every token (clients must fetch a new one)."""
        with self._lock:
            self._tokens.clear()


class SlidingWindowLimiter:
    """At most `limit` requests per key in any window of `seconds` (no burst allowance)."""

    def __init__(self, limit: int, seconds: float) -> None:
        self.limit = limit
        self.seconds = seconds
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Count the request if it fits in the window; False means answer 429."""
        if self.limit <= 0:
            return True
        now = time.monotonic()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.seconds:
                hits.popleft()
            if len(hits) >= self.limit:
                return False
            hits.append(now)
            return True


@dataclass
class Faults:
    """Injected failures; each rate is the probability of that failure per API request."""

    error_rate: float = 0.0
    html_503_rate: float = 0.0
    empty_500_rate: float = 0.0
    # 429 "Too Many Requests" from the gateway, whatever the request rate: a storm of them.
    status_429_rate: float = 0.0
    # A 200 answer whose JSON body is cut in half (Content-Length matching the cut body).
    truncated_rate: float = 0.0
    slow_ms: int = 0
    # SIMs whose list entries and usage answers come back malformed.
    garbled_iccids: list[str] = field(default_factory=list)
    # Every /v1 request answers 410, as after 1NCE switched v1 off.
    v1_retired: bool = False
    # How v2 answers daily usage: "stats" (v1's envelope), "array" or "unexpected".
    v2_usage_shape: str = "stats"
    # SIMs whose label v2 reports differently from v1 (a planted v1/v2 difference).
    diverged_iccids: list[str] = field(default_factory=list)

    RATES = ("error_rate", "html_503_rate", "empty_500_rate", "status_429_rate", "truncated_rate")
    USAGE_SHAPES = ("stats", "array", "unexpected")
    LISTS = ("garbled_iccids", "diverged_iccids")
    SWITCHES = ("slow_ms", "invalidate_tokens", "v1_retired", "v2_usage_shape")
    SETTINGS = frozenset((*RATES, *LISTS, *SWITCHES))

    def update(self, settings: dict) -> None:
        """Apply settings from the control endpoint (validated; ValueError if bad)."""
        unknown = set(settings) - self.SETTINGS
        if unknown:
            raise ValueError(f"unknown fault settings: {sorted(unknown)}")
        for name in self.RATES:
            if name in settings:
                value = float(settings[name])
                if not 0.0 <= value <= 1.0:
                    raise ValueError(f"{name} must be between 0 and 1")
                setattr(self, name, value)
        if "slow_ms" in settings:
            slow = int(settings["slow_ms"])
            if slow < 0:
                raise ValueError("slow_ms must not be negative")
            self.slow_ms = slow
        self._update_switches(settings)

    def _update_switches(self, settings: dict) -> None:
        for name in self.LISTS:
            if name in settings:
                setattr(self, name, [str(iccid) for iccid in settings[name]])
        if "v1_retired" in settings:
            if not isinstance(settings["v1_retired"], bool):
                raise ValueError("v1_retired must be true or false")
            self.v1_retired = settings["v1_retired"]
        if "v2_usage_shape" in settings:
            if settings["v2_usage_shape"] not in self.USAGE_SHAPES:
                raise ValueError(f"v2_usage_shape must be one of {list(self.USAGE_SHAPES)}")
            self.v2_usage_shape = settings["v2_usage_shape"]

    def as_dict(self) -> dict:
        """Current settings."""
        return asdict(self)


@dataclass
class Stats:
    """Request counters for tests and benchmarks."""

    requests: int = 0
    by_endpoint: Counter = field(default_factory=Counter)
    by_status: Counter = field(default_factory=Counter)
    status_429: int = 0
    token_requests: int = 0
    v1_requests: int = 0
    v2_requests: int = 0
    peak_rps: int = 0
    sims_window: deque = field(default_factory=deque)

    def as_dict(self) -> dict:
        """The JSON shape of GET /_sim/stats."""
        return {
            "requests": self.requests,
            "by_endpoint": dict(self.by_endpoint),
            "by_status": {str(code): count for code, count in self.by_status.items()},
            "status_429": self.status_429,
            "token_requests": self.token_requests,
            "v1_requests": self.v1_requests,
            "v2_requests": self.v2_requests,
            "peak_rps": self.peak_rps,
        }


class Gateway:
    """Shared gateway state of one simulator app."""

    def __init__(
        self,
        *,
        clock: Callable[[], datetime],
        rps: float,
        token_ttl: int,
        seed: int,
        v1_retired: bool = False,
    ) -> None:
        self.tokens = TokenStore(clock, token_ttl)
        # One limiter for /v1/sims and /v2/sims: 1NCE's limit is per customer, not per version.
        self.sims_limiter = SlidingWindowLimiter(int(rps) if rps > 0 else 0, 1.0)
        self.oauth_limiter = SlidingWindowLimiter(600, 60.0)
        self.catalog_limiter = SlidingWindowLimiter(100, 300.0)
        self.v1_retired = v1_retired
        self.faults = Faults(v1_retired=v1_retired)
        self.stats = Stats()
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def clear_faults(self) -> None:
        """Switch every fault off; v1 stays retired if the app was built so."""
        self.faults = Faults(v1_retired=self.v1_retired)

    def record_request(self, endpoint: str, *, version: str, sims: bool, token: bool) -> None:
        """Count an incoming API request; /sims requests also feed the peak-rate window.

        `version` is "v1", "v2" or "" (token endpoint, unknown paths).
        """
        now = time.monotonic()
        with self._lock:
            stats = self.stats
            stats.requests += 1
            stats.by_endpoint[endpoint] += 1
            stats.token_requests += token
            stats.v1_requests += version == "v1"
            stats.v2_requests += version == "v2"
            if sims:
                window = stats.sims_window
                window.append(now)
                while window[0] <= now - 1.0:
                    window.popleft()
                stats.peak_rps = max(stats.peak_rps, len(window))

    def record_status(self, status: int) -> None:
        """Count a response status."""
        with self._lock:
            self.stats.by_status[status] += 1
            self.stats.status_429 += status == 429

    def reset_stats(self) -> None:
        """Zero all counters."""
        with self._lock:
            self.stats = Stats()

    def pick_fault(self) -> str | None:
        """Which injected failure this request gets, if any."""
        faults = self.faults
        with self._lock:
            roll = self._random.random()
        for name in Faults.RATES:
            rate = getattr(faults, name)
            if roll < rate:
                return name
            roll -= rate
        return None
