"""Per-key rate limits of the API: fixed windows in Redis, counted in one round trip.

The same Lua script reads the API-key change token (`webapp.apikeys.services`), so one round
trip both counts the request and tells whether this process's cached keys are still current.
The windows behave as Flask-Limiter's fixed-window strategy did: a window starts with its
first request and lasts the limit's period; every request counts, refused ones too.
"""

import time
from dataclasses import dataclass
from functools import cache

from flask import Flask, current_app
from limits import RateLimitItem, parse_many

from webapp.api.problems import ApiProblem

SCRIPT_EXTENSION = "simfleet.api_rate_limit_script"
KEY_PREFIX = "simfleet:ratelimit"
# KEYS[1] is the change token; KEYS[2..] are counters, ARGV their (amount, seconds) pairs.
# Stops counting at the first exceeded limit, as Flask-Limiter did.
SCRIPT = """
local answer = {redis.call('GET', KEYS[1]) or false}
for i = 2, #KEYS do
    local count = redis.call('INCR', KEYS[i])
    if count == 1 then
        redis.call('EXPIRE', KEYS[i], ARGV[2 * i - 2])
    end
    table.insert(answer, count)
    table.insert(answer, redis.call('TTL', KEYS[i]))
    if count > tonumber(ARGV[2 * i - 3]) then
        break
    end
end
return answer
"""


@dataclass(frozen=True)
class Window:
    """One limit's window after this request."""

    item: RateLimitItem
    count: int
    reset_at: int

    @property
    def remaining(self) -> int:
        """Requests left in this window."""
        return max(self.item.amount - self.count, 0)

    @property
    def exceeded(self) -> bool:
        """Whether this request went over the limit."""
        return self.count > self.item.amount


@dataclass(frozen=True)
class Admission:
    """What Redis answered for a request: the change token, and its limits' windows."""

    token: bytes | None
    windows: tuple[Window, ...]

    def check(self) -> None:
        """Refuse the request with a 429 problem when a limit is used up."""
        for window in self.windows:
            if window.exceeded:
                retry = max(window.reset_at - int(time.time()), 1)
                raise ApiProblem(
                    429,
                    f"Rate limit exceeded ({window.item}).",
                    headers={"Retry-After": str(retry)},
                )

    def headers(self) -> dict[str, str]:
        """X-RateLimit-* of the exceeded limit, else of the one with the fewest requests left."""
        if not self.windows:
            return {}
        window = min(self.windows, key=lambda w: (not w.exceeded, w.remaining))
        return {
            "X-RateLimit-Limit": str(window.item.amount),
            "X-RateLimit-Remaining": str(window.remaining),
            "X-RateLimit-Reset": str(window.reset_at),
        }


def register_script(app: Flask) -> None:
    """Register the Lua script with the app's Redis client (the client loads it on first use)."""
    app.extensions[SCRIPT_EXTENSION] = app.extensions["redis"].register_script(SCRIPT)


def admit(*, identity: str, token_key: str, scopes: tuple[str, ...]) -> Admission:
    """Count a request of `identity` against the limits of `scopes` (config names)."""
    config = current_app.config
    items = (
        [(scope, item) for scope in scopes for item in _parse(config[scope])]
        if config["RATELIMIT_ENABLED"]
        else []
    )
    keys = [token_key]
    args = []
    for scope, item in items:
        seconds = item.get_expiry()
        keys.append(f"{KEY_PREFIX}:{scope}:{item.amount}/{seconds}:{identity}")
        args += [item.amount, seconds]
    token, *counts = current_app.extensions[SCRIPT_EXTENSION](keys=keys, args=args)
    now = int(time.time())
    windows = tuple(
        Window(item=item, count=counts[2 * i], reset_at=now + max(counts[2 * i + 1], 0))
        for i, (_, item) in enumerate(items[: len(counts) // 2])
    )
    return Admission(token=token, windows=windows)


@cache
def _parse(limits: str) -> tuple[RateLimitItem, ...]:
    return tuple(parse_many(limits))
