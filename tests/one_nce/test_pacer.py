"""The Redis pacer: evenly spaced slots across threads and processes, slowed down by a 429."""

import threading
import time
from itertools import pairwise

from webapp.one_nce.pacing import RedisPacer


def max_in_any_window(times: list[float], seconds: float = 1.0) -> int:
    """The most slots that fall into any half-open window of `seconds`."""
    times = sorted(times)
    best = start = 0
    for end, moment in enumerate(times):
        while times[start] <= moment - seconds:
            start += 1
        best = max(best, end - start + 1)
    return best


def test_slots_are_spaced_across_threads_and_a_process(redis, redis_url, start_worker):
    rate = 40.0
    worker = start_worker("pacer", redis_url, "test:pace", rate, 20)
    pacer = RedisPacer(redis, key="test:pace", rate=rate, group="test")
    slots: list[float] = []

    def take(count: int) -> None:
        for _ in range(count):
            slots.append(pacer.acquire().at)

    threads = [threading.Thread(target=take, args=(15,)) for _ in range(4)]
    worker.go()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    slots += worker.result()

    assert len(slots) == 80
    ordered = sorted(slots)
    gaps = [later - earlier for earlier, later in pairwise(ordered)]
    assert min(gaps) >= pacer.interval - 1e-6 > 1 / rate
    # The jitter allowance: even a window a little longer than a second holds no more.
    assert max_in_any_window(slots, seconds=1.05) <= rate


def test_idle_time_does_not_build_up_a_burst(redis):
    pacer = RedisPacer(redis, key="test:pace", rate=10.0, group="test")
    pacer.acquire()
    time.sleep(0.5)
    slots = [pacer.acquire().at for _ in range(4)]
    gaps = [later - earlier for earlier, later in pairwise(slots)]
    assert min(gaps) >= pacer.interval - 1e-6


def test_slow_down_pauses_then_halves_the_rate(redis):
    pacer = RedisPacer(redis, key="test:pace", rate=20.0, group="test", slow_down_seconds=5)
    pacer.acquire()
    started = time.monotonic()
    pacer.slow_down(pause=0.3)
    first = pacer.acquire()
    assert time.monotonic() - started >= 0.25
    assert first.waited >= 0.25
    second = pacer.acquire()
    assert second.at - first.at >= 2 * pacer.interval - 1e-6


def test_pacers_of_different_keys_do_not_wait_for_each_other(redis):
    slow = RedisPacer(redis, key="test:slow", rate=0.5, group="test")
    fast = RedisPacer(redis, key="test:fast", rate=50.0, group="test")
    slow.acquire()
    assert fast.acquire().waited < 0.05
