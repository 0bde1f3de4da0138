"""A rate limiter shared by every process and thread through Redis: evenly spaced call slots.

Each call reserves the next free slot in a Lua script that runs atomically on the Redis clock:
slot = max(now, next_free); next_free = slot + interval. Slots are therefore at least one
interval apart across all workers and there are no bursts after idle periods (unlike a token
bucket). The interval is (1 s + jitter allowance) / rate: any window of 1 s plus the allowance
holds at most `rate` slots, so a call delayed on its way by up to the allowance still cannot
push 1NCE's one-second count over `rate`. After a 429 the interval is doubled for a while and
the schedule is pushed back by the pause 1NCE asked for.
"""

import time
from dataclasses import dataclass

import redis as redis_lib

from webapp.one_nce.metrics import PACING_WAIT

# KEYS: schedule, slow-down flag. ARGV: interval (µs), slow-down factor.
# Returns the reserved slot and Redis' now, in µs since the epoch.
_RESERVE = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local interval = tonumber(ARGV[1])
if redis.call('EXISTS', KEYS[2]) == 1 then
  interval = interval * tonumber(ARGV[2])
end
local slot = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'))
local following = slot + interval
local keep_ms = math.ceil((following - now) / 1000) + 60000
redis.call('SET', KEYS[1], string.format('%.0f', following), 'PX', keep_ms)
return {slot, now}
"""

# KEYS: schedule, slow-down flag. ARGV: pause (µs), slow-down duration (ms).
_SLOW_DOWN = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
redis.call('SET', KEYS[2], '1', 'PX', ARGV[2])
local resume = now + tonumber(ARGV[1])
if resume > tonumber(redis.call('GET', KEYS[1]) or '0') then
  local keep_ms = math.ceil(tonumber(ARGV[1]) / 1000) + 60000
  redis.call('SET', KEYS[1], string.format('%.0f', resume), 'PX', keep_ms)
end
return 1
"""


@dataclass(frozen=True, slots=True)
class Slot:
    """A reserved call slot: when it is (Redis clock, seconds) and how long the caller waited."""

    at: float
    waited: float


class RedisPacer:
    """Evenly spaced call slots at `rate` per second, shared through one Redis key."""

    def __init__(
        self,
        redis: redis_lib.Redis,
        *,
        key: str,
        rate: float,
        group: str,
        jitter_allowance: float = 0.05,
        slow_down_factor: float = 2.0,
        slow_down_seconds: float = 30.0,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be greater than 0")
        self.rate = rate
        self.group = group
        self.interval = (1.0 + jitter_allowance) / rate
        self._keys = [key, f"{key}:slow"]
        self._factor = slow_down_factor
        self._slow_ms = int(slow_down_seconds * 1000)
        self._reserve = redis.register_script(_RESERVE)
        self._slow_down = redis.register_script(_SLOW_DOWN)

    def acquire(self) -> Slot:
        """Reserve the next slot and sleep until it comes; the wait is recorded as a metric."""
        interval_us = round(self.interval * 1_000_000)
        slot_us, now_us = self._reserve(keys=self._keys, args=[interval_us, self._factor])
        waited = max(0.0, (int(slot_us) - int(now_us)) / 1_000_000)
        if waited:
            time.sleep(waited)
        PACING_WAIT.labels(group=self.group).observe(waited)
        return Slot(at=int(slot_us) / 1_000_000, waited=waited)

    def slow_down(self, *, pause: float) -> None:
        """After a 429: hold every caller back for `pause` seconds, then run at a reduced rate."""
        self._slow_down(keys=self._keys, args=[max(0, round(pause * 1_000_000)), self._slow_ms])
