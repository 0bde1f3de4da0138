"""A separate OS process for pacing tests: `python -m tests.one_nce.worker pacer|client ...`.

It prints "ready", waits for a line on stdin (so it starts with the test's threads), does its
work and prints one JSON line with its results.
"""

import json
import sys

import redis

from webapp.one_nce import OneNceClient
from webapp.one_nce.pacing import RedisPacer


def run_pacer(redis_url: str, key: str, rate: float, count: int) -> list[float]:
    """Reserve `count` slots; return their times."""
    pacer = RedisPacer(redis.Redis.from_url(redis_url), key=key, rate=rate, group="test")
    return [pacer.acquire().at for _ in range(count)]


def run_client(redis_url: str, base_url: str, client_id: str, secret: str, rate: float, count: int):
    """Read the first SIM's quota `count` times through a client of its own."""
    client = OneNceClient(
        base_url=base_url,
        client_id=client_id,
        client_secret=secret,
        api_version="v1",
        redis=redis.Redis.from_url(redis_url),
        max_rps=rate,
    )
    iccid = next(client.list_sims(page_size=1)).records[0].iccid
    return [str(client.get_data_quota(iccid).volume) for _ in range(count - 1)]


def main(argv: list[str]) -> None:
    """Run one of the workers with its command-line arguments."""
    kind, *args = argv
    print("ready", flush=True)
    sys.stdin.readline()
    if kind == "pacer":
        result = run_pacer(args[0], args[1], float(args[2]), int(args[3]))
    else:
        result = run_client(*args[:4], float(args[4]), int(args[5]))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
