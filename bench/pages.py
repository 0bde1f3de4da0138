"""Page latency: the dashboard, the inventory (search + filter) and SIM detail under load, with wrk.

    python -m bench.pages --sims 100000 --days 180 --seconds 20

Loads a generated fleet (devtools/generate_fleet.py) into a database that is kept for the next
run (`--database`, reused while it holds the SIMs asked for; `--fresh` reloads it), starts
Gunicorn with gunicorn.conf.py on a free port, signs a viewer in, and drives `--connections`
concurrent clients with wrk at each page in turn: a Lua script carries the session cookie and
picks a random search term or ICCID per request. Reports per page the client-side latency
(wrk: p50/p95/p99, req/s) and the server time (the app's duration_ms per request, logged as
JSON at INFO). Exits 1 when a page's server p95 is at or above `--target-ms`.
"""

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import psycopg
import requests
import sqlalchemy as sa

from bench.common import ROOT, app_env, empty_redis, migrated_app, parser
from devtools import devstack
from devtools.generate_fleet import load_fleet
from webapp.admin.services import create_user
from webapp.extensions import db
from webapp.fleet.services import FIGURE_VIEWS
from webapp.models import Role
from webapp.sim_queries import SimFilters

EMAIL, PASSWORD = "bench-viewer@example.com", "bench viewer password 1"
SAMPLES = 400  # random ICCIDs and search terms per run
LUA = """
local paths = {%(paths)s}
wrk.headers["Cookie"] = "%(cookie)s"
math.randomseed(os.time())
request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end
done = function(summary, latency, requests)
  io.write(string.format(
    "RESULT {\\"p50\\": %%d, \\"p95\\": %%d, \\"p99\\": %%d, \\"requests\\": %%d, "
    .. "\\"seconds\\": %%f, \\"bad\\": %%d}\\n",
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    summary.requests, summary.duration / 1e6, summary.errors.status + summary.errors.timeout))
end
"""


def prepare_database(
    server_url: str, redis_url: str, name: str, *, sims: int, days: int, fresh: bool, **fleet: Any
) -> str:
    """The URL of database `name` on `server_url`'s server, migrated and holding the fleet.

    `fleet` goes to `load_fleet` (the account and first ICCID of the generated SIMs).
    """
    base, _, _ = server_url.rpartition("/")
    url = f"{base}/{name}"
    if fresh:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    devstack.create_database(server_url, name)
    app = migrated_app(url, redis_url)
    with app.app_context():
        loaded = db.session.scalar(sa.text("SELECT count(*) FROM sims"))
        if loaded < sims:
            started = time.perf_counter()
            load_fleet(db.session.connection(), sims=sims, usage_days=days, **fleet)
            db.session.commit()
            print(f"Loaded {sims:,} SIMs x {days} days in {time.perf_counter() - started:.0f} s")
        else:
            print(f"Reusing {name}: {loaded:,} SIMs")
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("ANALYZE"))
        if not db.session.scalar(sa.text("SELECT 1 FROM users WHERE email = :e"), {"e": EMAIL}):
            create_user(email=EMAIL, password=PASSWORD, role=Role.VIEWER)
            db.session.commit()
        db.engine.dispose()
    return url


def sample_paths(url: str) -> dict[str, list[str]]:
    """Per page, the URL paths the load picks from: random SIMs and partial search terms."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT iccid, label, msisdn FROM sims ORDER BY hashtext(iccid) LIMIT %s", (SAMPLES,)
        ).fetchall()
    terms = []
    for position, (iccid, label, msisdn) in enumerate(rows):
        # A label's first words, the middle of an ICCID, the end of an MSISDN.
        choices = [label.rsplit("-", 1)[0] if label else None, iccid[6:14], msisdn[-7:]]
        terms.append(choices[position % 3] or iccid[-8:])
    return {
        "dashboard /": ["/"],
        "dashboard /?range=6m": ["/?range=6m"],
        "usage JSON (6 months)": ["/fleet/usage.json?range=6m"],
        "inventory /sims?q=..&status=Enabled": [
            f"/sims?q={quote(term)}&status=Enabled" for term in terms
        ],
        "SIM detail /sims/<iccid>": [f"/sims/{iccid}" for iccid, _, _ in rows],
        # The views the dashboard's figures open: filters only, so counted exactly.
        "inventory, a dashboard figure's view": [
            f"/sims?{urlencode(view.to_args())}"
            for view in (SimFilters(), SimFilters(status="Enabled"), *FIGURE_VIEWS.values())
        ],
    }


def gunicorn(env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    """Start Gunicorn (gunicorn.conf.py) logging to `log`, and wait until it answers."""
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "wsgi:app"],
        cwd=ROOT,
        env=env | {"BIND": f"127.0.0.1:{port}", "GUNICORN_LOG_LEVEL": "warning"},
        stderr=log.open("ab"),
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


def sign_in(base: str) -> str:
    """Sign the bench viewer in; the session cookie as a Cookie header value."""
    session = requests.Session()
    form = session.get(f"{base}/login", timeout=10).text
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', form)
    assert token is not None, "the login page has a CSRF token"
    data = {"email": EMAIL, "password": PASSWORD, "csrf_token": token.group(1)}
    response = session.post(f"{base}/login", data=data, allow_redirects=False, timeout=10)
    if response.status_code != 303:
        raise RuntimeError(f"sign-in failed: {response.status_code}")
    return "; ".join(f"{c.name}={c.value}" for c in session.cookies)


def wrk(
    base: str,
    paths: list[str],
    cookie: str,
    *,
    seconds: int,
    connections: int,
    warm_up: bool = False,
) -> dict:
    """Run wrk over `paths` (one picked at random per request); its figures.

    A warm-up run (workers import, connect and compile templates) may see slow requests.
    """
    quoted = ", ".join(json.dumps(path) for path in paths)
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(LUA % {"paths": quoted, "cookie": cookie})
        script.flush()
        command = [
            "wrk",
            f"-t{min(2, connections)}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
        ]
        command += ["-s", script.name, base]
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    result = json.loads(output.split("RESULT ", 1)[1].splitlines()[0])
    if result["bad"] and not warm_up:
        raise RuntimeError(f"{paths[0]}: {result['bad']} errors or timeouts\n{output}")
    return result


def server_times(log: Path, start: int) -> list[float]:
    """duration_ms of every request the app logged after byte `start` of `log`, all 200s."""
    durations = []
    with log.open("rb") as lines:
        lines.seek(start)
        for line in lines:
            if b'"duration_ms"' in line:
                record = json.loads(line)
                if record["status"] != 200:
                    raise RuntimeError(f"{record['path']} answered {record['status']}")
                durations.append(record["duration_ms"])
    return sorted(durations)


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile of sorted `values`."""
    return values[min(len(values) - 1, max(0, round(share / 100 * len(values)) - 1))]


def main() -> None:
    """Prepare the fleet, serve it, load each page in turn, print the figures."""
    options = parser(__doc__.splitlines()[0])
    options.add_argument("--database", default="simfleet_pages_bench", help="kept between runs")
    options.add_argument("--fresh", action="store_true", help="drop and reload the database")
    options.add_argument("--sims", type=int, default=100_000)
    options.add_argument("--days", type=int, default=180)
    options.add_argument("--seconds", type=int, default=20)
    options.add_argument("--connections", type=int, default=8)
    options.add_argument("--target-ms", type=float, default=100.0)
    args = options.parse_args()
    figures = []
    with empty_redis(args.redis_url) as redis_url, tempfile.TemporaryDirectory() as tmp:
        url = prepare_database(
            args.database_url,
            redis_url,
            args.database,
            sims=args.sims,
            days=args.days,
            fresh=args.fresh,
        )
        pages = sample_paths(url)
        log = Path(tmp) / "gunicorn.log"
        port = devstack.free_port()
        env = app_env(url, redis_url, LOG_LEVEL="INFO", LOG_FORMAT="json")
        server = gunicorn(env, port, log)
        try:
            base = f"http://127.0.0.1:{port}"
            cookie = sign_in(base)
            for label, paths in pages.items():
                wrk(base, paths, cookie, seconds=5, connections=args.connections, warm_up=True)
                start = log.stat().st_size
                client = wrk(
                    base, paths, cookie, seconds=args.seconds, connections=args.connections
                )
                figures.append((label, client, server_times(log, start)))
        finally:
            server.terminate()
            server.wait(timeout=30)
    report(args, figures)


def report(args: argparse.Namespace, figures: list[tuple[str, dict, list[float]]]) -> None:
    """Print a Markdown table of the figures; exit 1 when a server p95 misses the target."""
    print(
        f"\nPages: {args.sims:,} SIMs x {args.days} days, wrk -c{args.connections}"
        f" -d{args.seconds}s, gunicorn.conf.py\n"
    )
    print("| page | req/s | client p50 / p95 / p99 (ms) | server p50 / p95 / p99 (ms) |")
    print("|---|---|---|---|")
    missed = []
    for label, client, server in figures:
        rate = client["requests"] / client["seconds"]
        wrk_ms = " / ".join(f"{client[p] / 1000:.0f}" for p in ("p50", "p95", "p99"))
        app_ms = " / ".join(f"{percentile(server, p):.0f}" for p in (50, 95, 99))
        print(f"| {label} | {rate:,.0f} | {wrk_ms} | {app_ms} |")
        if percentile(server, 95) >= args.target_ms:
            missed.append(label)
    if missed:
        print(f"\nFAIL: server p95 at or above {args.target_ms:.0f} ms: {', '.join(missed)}")
        sys.exit(1)
    print(f"\nPASS: every page's server p95 below {args.target_ms:.0f} ms")


if __name__ == "__main__":
    main()
