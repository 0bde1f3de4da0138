"""API throughput: one SIM and a 100-SIM page (mid-fleet) against a trivial JSON endpoint, wrk.

    python -m bench.api_bench --sims 100000 --usage-days 0 --seconds 10 --rounds 5

Creates a scratch database, loads a generated fleet (devtools/generate_fleet.py), creates a read
key, starts Gunicorn with gunicorn.conf.py on 127.0.0.1 and the API's real rate-limit path
(limits on, high enough not to trigger), then runs wrk against each URL in turn, `--rounds`
times over, so that load from other processes falls on all URLs alike. The reference is
/health/live: the same app, hooks and Gunicorn, answering `{"status": "ok"}` without touching
PostgreSQL or Redis. Passes when both API URLs reach at least half its median requests per
second.
"""

import os
import re
import statistics
import subprocess
import sys
import time

import requests
import sqlalchemy as sa

from bench.common import (
    ROOT,
    app_env,
    empty_redis,
    migrated_app,
    parser,
    print_table,
    scratch_database,
)
from devtools.devstack import free_port
from devtools.generate_fleet import first_iccid, load_fleet
from webapp.apikeys.services import create_api_key
from webapp.extensions import db
from webapp.paging import encode_cursor

TARGET_RATIO = 0.5
TRIVIAL = "/health/live"


def wrk(url: str, *, seconds: int, connections: int, threads: int, key: str) -> float:
    """Requests per second wrk measured for `url` (errors and timeouts are reported)."""
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    command += ["-H", f"Authorization: Bearer {key}", url]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    if re.search(r"Non-2xx or 3xx responses: \d+", output):
        raise RuntimeError(f"{url} answered errors:\n{output}")
    socket_errors = re.search(r"Socket errors: .*", output)
    if socket_errors:
        print(f"  ({url}: {socket_errors.group(0)})")
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    assert rate is not None, output
    return float(rate.group(1))


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, as `uptime` shows them."""
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def gunicorn(env: dict[str, str], port: int) -> subprocess.Popen:
    """Start Gunicorn with the project's gunicorn.conf.py and wait until it answers."""
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "wsgi:app"],
        cwd=ROOT,
        env=env | {"BIND": f"127.0.0.1:{port}", "GUNICORN_LOG_LEVEL": "warning"},
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/health", timeout=1).raise_for_status()
            return process
        except requests.RequestException:
            time.sleep(0.3)
    process.terminate()
    raise RuntimeError("gunicorn did not start")


def main() -> None:
    """Load the fleet, serve it, measure, print the figures; exit 1 below the target."""
    options = parser(__doc__.splitlines()[0])
    options.add_argument("--sims", type=int, default=100_000)
    options.add_argument("--usage-days", type=int, default=0)
    options.add_argument("--seconds", type=int, default=10)
    options.add_argument("--connections", type=int, default=32)
    options.add_argument("--threads", type=int, default=4)
    options.add_argument("--rounds", type=int, default=5)
    args = options.parse_args()
    with scratch_database(args.database_url) as url, empty_redis(args.redis_url) as redis_url:
        app = migrated_app(url, redis_url)
        with app.app_context():
            started = time.perf_counter()
            load_fleet(db.session.connection(), sims=args.sims, usage_days=args.usage_days)
            db.session.commit()
            # The load rewrites each row more than once, as syncs do; measure the tables as
            # autovacuum keeps them, and keep autovacuum from running during the measurement.
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text("VACUUM (ANALYZE)"))
            loaded = time.perf_counter() - started
            _, key = create_api_key(name="bench", scope="read")
            db.session.commit()
            db.engine.dispose()
        port = free_port()
        env = app_env(
            url, redis_url, RATELIMIT_ENABLED="true", API_RATE_LIMIT="100000000 per minute"
        )
        load_before = load_average()
        server = gunicorn(env, port)
        try:
            base = f"http://127.0.0.1:{port}"
            middle = str(int(first_iccid()) + args.sims // 2)
            # A page in the middle of the fleet, as a script walking it mostly asks for.
            page = f"/api/v1/sims?limit=100&cursor={encode_cursor({'iccid': middle})}"
            urls = {
                TRIVIAL: f"{base}{TRIVIAL}",
                "GET /api/v1/sims/<iccid>": f"{base}/api/v1/sims/{middle}",
                "GET /api/v1/sims?limit=100&cursor=…": f"{base}{page}",
            }
            measure = {"connections": args.connections, "threads": args.threads, "key": key}
            for target in urls.values():
                wrk(target, seconds=2, **measure)
            rates: dict[str, list[float]] = {label: [] for label in urls}
            for _ in range(args.rounds):
                for label, target in urls.items():
                    rates[label].append(wrk(target, seconds=args.seconds, **measure))
        finally:
            server.terminate()
            server.wait(timeout=30)
    medians = {label: statistics.median(values) for label, values in rates.items()}
    trivial = medians[TRIVIAL]
    print(
        f"API benchmark: {args.sims} SIMs, {args.usage_days} usage days (loaded in {loaded:.1f} s)"
    )
    print(
        f"  gunicorn.conf.py, WEB_CONCURRENCY={os.environ.get('WEB_CONCURRENCY', 'default')},"
        f" {os.cpu_count()} CPUs, wrk -t{args.threads} -c{args.connections},"
        f" {args.rounds} rounds of {args.seconds} s per URL"
    )
    print(f"  load average before: {load_before}; after: {load_average()}")
    print(f"  reference: {TRIVIAL}, a trivial JSON answer (no PostgreSQL, no Redis)")
    print_table(
        [
            (
                label,
                f"{medians[label]:,.0f} req/s median ({medians[label] / trivial:.0%} of"
                f" {TRIVIAL}; rounds: {', '.join(f'{rate:,.0f}' for rate in rates[label])})",
            )
            for label in rates
        ]
    )
    if min(medians.values()) < TARGET_RATIO * trivial:
        print(f"FAIL: below {TARGET_RATIO:.0%} of {TRIVIAL}")
        sys.exit(1)
    print(f"PASS: every API URL at or above {TARGET_RATIO:.0%} of {TRIVIAL}")


if __name__ == "__main__":
    main()
