"""Load: mixed traffic from 8, 32 and 128 concurrent clients on 100,000 SIMs during a full sync.

    python -m bench.load --sims 100000 --days 183 --clients 8,32,128 --seconds 120

Loads a generated fleet (devtools/generate_fleet.py) into a database kept for the next run
(`--database`; `--fresh` reloads it) whose SIMs are the simulator's own (same ICCIDs, same
account), so the sync that runs meanwhile updates the SIMs the clients read. Then runs the
stack as deployed: the simulator (1NCE), Gunicorn with gunicorn.conf.py, two RQ workers and
the scheduler, in production mode with rate limits on, with ONCE_MAX_RPS at its default.

Each step keeps a full sync going (every kind is started again as soon as its run ends) and
runs N clients for `--seconds`. Each client is a viewer of its own (its session and its API
key, as N people and scripts would be) and loops with no think time over a realistic mix:
the dashboard (page, sync status, chart data), inventory searches (HTMX partials), SIM pages
(page, chart data), API paging (100 SIMs a page, following the cursor), one SIM from the API
and a CSV export of a search. A request over 30 s counts as a hang.

Prints, per step: requests per second, error rate, statuses (5xx, 429, 503 with and without
Retry-After, hangs), client-side p50/p95/p99 per kind, memory per process at the start and
end of the step, and the database pool's peak use against its size (the app's pool gauges).
Exits 1 when a step sees a 500-class answer other than a 503 with Retry-After, a hang, or a
step at 32 clients or fewer any 5xx at all.
"""

import argparse
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import psycopg
import requests
from flask import Flask

from bench.common import (
    CLIENT_ID,
    ROOT,
    app_env,
    describe_machine,
    empty_redis,
    migrated_app,
    once_settings,
    parser,
    rq_workers,
    simulator,
    simulator_stats,
)
from bench.pages import gunicorn, prepare_database
from bench.worker_memory import children, memory_mb
from devtools import devstack
from simulator.identity import iccid_for
from simulator.seeding import first_serial
from webapp.admin.services import create_user
from webapp.apikeys.services import create_api_key
from webapp.extensions import db
from webapp.models import Role
from webapp.tasks import enqueue

SIMULATOR_SEED = 1  # the simulator's default fleet
PLACEHOLDER_API_URL = "https://simulator.invalid/management-api"  # until a run starts one
SECRET_KEY = "load-bench-" + "k3Y9q2Wm7Xv4Tz8Rb6Np1Lc5Hd0Fs"
METRICS_TOKEN = "load-bench-metrics"
PASSWORD = "load bench viewer password 7"
HANG_SECONDS = 30.0
SAMPLE_SECONDS = 2.0
SYNC_KINDS = ("inventory", "usage", "quotas", "events", "connectivity")
# (kind, weight): what fleet managers and their scripts do most.
MIX = (
    ("dashboard", 15),
    ("inventory search", 30),
    ("SIM page", 25),
    ("API paging", 20),
    ("API one SIM", 7),
    ("CSV export", 3),
)
SEARCH_SAMPLES = 400
# What fleet managers export: the dashboard's lists to act on (hundreds to a few thousand SIMs
# at 100,000), or a label search. Not the whole fleet: a 50,000-SIM export takes a core 1.9 s.
EXPORTED_VIEWS = ("quota_state=low", "silent=3d", "quota_ends=30d&status=Enabled")
Targets = tuple[list[str], list[str], list[str]]  # ICCIDs, search terms, label words


@dataclass
class Answer:
    """One request's outcome as a client saw it."""

    kind: str
    status: int  # 0: no answer (connection error or hang)
    seconds: float
    retry_after: bool


@dataclass
class Step:
    """What one step (N clients) measured."""

    clients: int
    seconds: float = 0.0
    answers: list[Answer] = field(default_factory=list)
    memory: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    pool_peak: float = 0.0
    pool_capacity: float = 0.0
    web_workers_seen: int = 0
    sync: str = ""


# The fleet -----------------------------------------------------------------------------------


def point_account_at(url: str, api_url: str) -> None:
    """Give the fleet's account this run's simulator URL (its port changes from run to run)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "UPDATE provider_accounts SET api_url = %s WHERE client_id = %s", (api_url, CLIENT_ID)
        )


def create_clients(app: Flask, count: int) -> list[tuple[str, str]]:
    """(email, API key) of `count` viewers, created anew for this run."""
    run = f"{int(time.time())}"
    clients = []
    with app.app_context():
        for number in range(count):
            email = f"load-{run}-{number}@example.com"
            user = create_user(email=email, password=PASSWORD, role=Role.VIEWER)
            _, key = create_api_key(name=f"load {number}", scope="read", created_by=user)
            clients.append((email, key))
        db.session.commit()
        db.engine.dispose()
    return clients


def sample_targets(url: str) -> Targets:
    """Random ICCIDs, search terms (label words, ICCID middles, MSISDN ends), label words."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT iccid, label, msisdn FROM sims ORDER BY hashtext(iccid) LIMIT %s",
            (SEARCH_SAMPLES,),
        ).fetchall()
    terms = []
    for position, (iccid, label, msisdn) in enumerate(rows):
        choices = [label.rsplit("-", 1)[0] if label else None, iccid[6:14], msisdn[-7:]]
        terms.append(choices[position % 3] or iccid[-8:])
    labels = [label.split()[0] for _, label, _ in rows if label]
    return [iccid for iccid, _, _ in rows], terms, labels


# The clients ---------------------------------------------------------------------------------


class Client(threading.Thread):
    """One person (session) with one script (API key), looping over the mix until told to stop."""

    def __init__(
        self,
        base: str,
        cookie: str,
        key: str,
        targets: Targets,
        stop: threading.Event,
        record: Callable[[Answer], None],
    ) -> None:
        super().__init__(daemon=True)
        self.base, self.stop, self.record = base, stop, record
        self.iccids, self.terms, self.labels = targets
        self.http = requests.Session()
        self.http.headers["Cookie"] = cookie
        self.api_headers = {"Authorization": f"Bearer {key}"}
        self.cursor: str | None = None
        self.random = random.Random()
        kinds, weights = zip(*MIX, strict=True)
        self.kinds, self.weights = kinds, weights

    def run(self) -> None:
        """Visit pages and call the API until the step ends."""
        visits = {
            "dashboard": self.dashboard,
            "inventory search": self.search,
            "SIM page": self.sim_page,
            "API paging": self.api_page,
            "API one SIM": self.api_sim,
            "CSV export": self.export,
        }
        while not self.stop.is_set():
            kind = self.random.choices(self.kinds, self.weights)[0]
            visits[kind](kind)

    def dashboard(self, kind: str) -> None:
        """The dashboard as a browser loads it: page, sync status, chart data."""
        chart_range = self.random.choice(("30d", "90d", "6m"))
        self.get(kind, f"/?range={chart_range}")
        self.get(kind, "/fleet/sync-status", htmx=True)
        self.get(kind, f"/fleet/usage.json?range={chart_range}")

    def search(self, kind: str) -> None:
        """Type a search (the HTMX partial), sometimes with a status filter."""
        term = quote(self.random.choice(self.terms))
        status = self.random.choice(("", "&status=Enabled"))
        self.get(kind, f"/sims?q={term}{status}", htmx=True)

    def sim_page(self, kind: str) -> None:
        """A SIM's page and its chart data."""
        iccid = self.random.choice(self.iccids)
        self.get(kind, f"/sims/{iccid}")
        self.get(kind, f"/sims/{iccid}/usage.json")

    def api_page(self, kind: str) -> None:
        """The next page of 100 SIMs, following the cursor through the fleet."""
        cursor = f"&cursor={quote(self.cursor)}" if self.cursor else ""
        response = self.get(kind, f"/api/v1/sims?limit=100{cursor}", api=True)
        if response is not None and response.status_code == 200:
            self.cursor = response.json()["next_cursor"]

    def api_sim(self, kind: str) -> None:
        """One SIM from the API."""
        self.get(kind, f"/api/v1/sims/{self.random.choice(self.iccids)}", api=True)

    def export(self, kind: str) -> None:
        """A CSV export of a list someone acts on: SIMs running low or silent, or a search."""
        term = quote(self.random.choice(self.labels))
        self.get(kind, "/sims/export.csv?" + self.random.choice((*EXPORTED_VIEWS, f"q={term}")))

    def get(
        self, kind: str, path: str, *, htmx: bool = False, api: bool = False
    ) -> requests.Response | None:
        """GET `path` and record the answer; the response, or None without one."""
        headers = self.api_headers if api else ({"HX-Request": "true"} if htmx else {})
        started = time.perf_counter()
        try:
            response = self.http.get(self.base + path, headers=headers, timeout=HANG_SECONDS)
            response.content  # noqa: B018  (read the body to the end, as a browser would)
        except requests.RequestException:
            self.record(Answer(kind, 0, time.perf_counter() - started, False))
            return None
        elapsed = time.perf_counter() - started
        self.record(Answer(kind, response.status_code, elapsed, "Retry-After" in response.headers))
        return response


def sign_in(base: str, email: str) -> str:
    """Sign `email` in; its cookies as a Cookie header value.

    Sent by hand: production cookies are Secure, which requests' jar keeps off plain HTTP.
    """
    form = requests.get(f"{base}/login", timeout=30)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', form.text)
    assert token is not None, "the login page has a CSRF token"
    data = {"email": email, "password": PASSWORD, "csrf_token": token.group(1)}
    response = requests.post(
        f"{base}/login",
        data=data,
        headers={"Cookie": cookie_header(form.cookies)},
        allow_redirects=False,
        timeout=30,
    )
    if response.status_code != 303:
        raise RuntimeError(f"sign-in failed: {response.status_code}")
    return cookie_header(dict(form.cookies) | dict(response.cookies))


def cookie_header(cookies: Mapping[str, str | None]) -> str:
    """A Cookie header value carrying `cookies`."""
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


# What the stack does meanwhile ---------------------------------------------------------------


class Sampler(threading.Thread):
    """Memory of every process and the pool gauges, every SAMPLE_SECONDS."""

    def __init__(self, base: str, roles: dict[str, int]) -> None:
        super().__init__(daemon=True)
        self.base, self.roles = base, roles
        self.rss: dict[str, list[float]] = defaultdict(list)
        self.pool: dict[str, float] = {}
        self.web_pids: set[int] = set()
        self.stopped = threading.Event()

    def run(self) -> None:
        """Sample until stopped."""
        while not self.stopped.wait(SAMPLE_SECONDS):
            self.sample()

    def sample(self) -> None:
        """Take one sample of every process and the pool gauges."""
        for role, pid in self.roles.items():
            self.rss[role].append(memory_mb(pid)[0])
            if role == "gunicorn master":
                workers = children(pid)
                self.web_pids.update(workers)
                rss = [memory_mb(worker)[0] for worker in workers]
                self.rss["gunicorn worker (mean)"].append(statistics.fmean(rss) if rss else 0)
                self.rss["gunicorn workers (sum)"].append(sum(rss))
            if role.startswith("RQ worker"):
                horses = children(pid)
                self.rss["RQ work horses (sum)"].append(sum(memory_mb(h)[0] for h in horses))
        self.pool = pool_gauges(self.base)

    def memory(self) -> dict[str, tuple[float, float, float]]:
        """Per role: RSS at the first and last sample and the peak, in MB."""
        return {role: (values[0], values[-1], max(values)) for role, values in self.rss.items()}


def pool_gauges(base: str) -> dict[str, float]:
    """The app's simfleet_db_pool_* gauges, from /metrics."""
    try:
        body = requests.get(
            f"{base}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=10
        ).text
    except requests.RequestException:
        return {}
    return {
        name: float(value)
        for name, value in re.findall(r"^simfleet_db_pool_(\w+) ([0-9.e+]+)$", body, re.M)
    }


class SyncKeeper(threading.Thread):
    """Keeps a full sync going: starts each kind again as soon as its last run has ended."""

    def __init__(self, app: Flask, url: str) -> None:
        super().__init__(daemon=True)
        self.app, self.url = app, url
        self.stopped = threading.Event()

    def run(self) -> None:
        """Start idle kinds every few seconds until stopped."""
        with self.app.app_context():
            while not self.stopped.wait(8):  # a started run shows as running within seconds
                running = self.running_kinds()
                for kind in SYNC_KINDS:
                    if kind not in running:
                        enqueue("worker.jobs.sync_start", kind)

    def running_kinds(self) -> set[str]:
        """The kinds with a run still running."""
        with psycopg.connect(self.url) as conn:
            rows = conn.execute("SELECT kind FROM sync_runs WHERE outcome = 'running'").fetchall()
        return {kind for (kind,) in rows}

    def runs_ended(self) -> int:
        """How many sync runs have ended so far."""
        with psycopg.connect(self.url) as conn:
            query = "SELECT count(*) FROM sync_runs WHERE outcome <> 'running'"
            (ended,) = conn.execute(query).fetchone() or (0,)
        return ended


# A run ---------------------------------------------------------------------------------------


@dataclass
class Stack:
    """The running processes: where to reach them and which PID plays which role."""

    base: str
    simulator_root: str
    app: Flask
    roles: dict[str, int]


@contextmanager
def stack(args: argparse.Namespace, url: str, redis_url: str, tmp: Path) -> Iterator[Stack]:
    """Simulator, Gunicorn, two RQ workers and the scheduler, as deployed."""
    with ExitStack() as stop:
        root = stop.enter_context(
            simulator(sims=args.sims, rps=args.simulator_rps, env=app_env(url, redis_url))
        )
        settings = once_settings(root, args.max_rps)
        point_account_at(url, settings["ONCE_API_URL"])
        production = {
            "APP_ENV": "production",
            "SECRET_KEY": SECRET_KEY,
            "METRICS_TOKEN": METRICS_TOKEN,
            "RATELIMIT_ENABLED": "true",
            # All clients sign in from one address; every other limit stays as shipped.
            "LOGIN_LIMIT_PER_IP": "100000 per minute",
            "LOG_LEVEL": "WARNING",
        }
        env = app_env(url, redis_url, **settings) | production
        app = migrated_app(url, redis_url, **settings)
        port = devstack.free_port()
        web = gunicorn(env, port, tmp / "gunicorn.log")
        stop.callback(stop_process, web)
        workers = stop.enter_context(rq_workers(2, env))
        scheduler = start(["-m", "worker.scheduler"], env, tmp / "scheduler.log")
        stop.callback(stop_process, scheduler)
        roles = {"gunicorn master": web.pid, "scheduler": scheduler.pid}
        roles |= {f"RQ worker {n + 1}": worker.pid for n, worker in enumerate(workers)}
        yield Stack(f"http://127.0.0.1:{port}", root, app, roles)


def start(arguments: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """`python <arguments>` in the repository, its stderr to `log`."""
    return subprocess.Popen([sys.executable, *arguments], cwd=ROOT, env=env, stderr=log.open("ab"))


def stop_process(process: subprocess.Popen) -> None:
    """SIGTERM, then wait for it to end."""
    process.terminate()
    process.wait(timeout=60)


def run_step(
    running: Stack,
    clients: list[tuple[str, str]],
    targets: Targets,
    count: int,
    seconds: float,
    keeper: SyncKeeper,
) -> Step:
    """`count` clients for `seconds`; what they saw and what the stack did."""
    base = running.base
    step = Step(count)
    lock = threading.Lock()

    def record(answer: Answer) -> None:
        with lock:
            step.answers.append(answer)

    stop = threading.Event()
    cookies = [sign_in(base, email) for email, _ in clients[:count]]
    threads = [
        Client(base, cookie, key, targets, stop, record)
        for cookie, (_, key) in zip(cookies, clients[:count], strict=True)
    ]
    sampler = Sampler(base, running.roles)
    sampler.sample()
    ended_before = keeper.runs_ended()
    calls_before = simulator_stats(running.simulator_root)["requests"]
    sampler.start()
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join(timeout=HANG_SECONDS + 5)
    step.seconds = time.perf_counter() - started
    sampler.stopped.set()
    sampler.join()
    sampler.sample()
    ended_after = keeper.runs_ended()
    calls = simulator_stats(running.simulator_root)["requests"] - calls_before
    step.memory = sampler.memory()
    step.pool_peak = sampler.pool.get("peak_in_use", 0)
    step.pool_capacity = sampler.pool.get("capacity", 0)
    step.web_workers_seen = len(sampler.web_pids)
    step.sync = (
        f"{calls / step.seconds:.1f} calls/s to 1NCE, {ended_after - ended_before} runs ended"
    )
    return step


# The report ----------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile of `values` (unsorted), in ms."""
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, max(0, round(share / 100 * len(ordered)) - 1))]


def statuses(answers: list[Answer]) -> Counter:
    """Counts by outcome class: ok, 429, 503 (+Retry-After or not), 5xx, hang/no answer."""
    counts: Counter = Counter()
    for answer in answers:
        if answer.status == 0:
            counts["no answer"] += 1
        elif answer.status in (429, 503):
            counts[f"{answer.status}" + (" +Retry-After" if answer.retry_after else "")] += 1
        elif answer.status >= 500:
            counts["5xx"] += 1
        elif answer.status >= 400:
            counts["4xx"] += 1
        else:
            counts["ok"] += 1
    return counts


def report(args: argparse.Namespace, steps: list[Step]) -> bool:
    """Print the figures as Markdown; True when every step behaved."""
    print(f"\nLoad: {args.sims:,} SIMs x {args.days} days, a full sync running, gunicorn.conf.py")
    print(f"Machine: {describe_machine()}\n")
    columns = "clients|req/s|errors|statuses|p50 / p95 / p99 (ms)|pool peak / size|sync meanwhile"
    print("| " + columns.replace("|", " | ") + " |")
    print("|---" * (columns.count("|") + 1) + "|")
    healthy = True
    for step in steps:
        counts = statuses(step.answers)
        total = len(step.answers)
        errors = total - counts["ok"]
        seconds = [a.seconds for a in step.answers]
        shown = ", ".join(f"{name} {count:,}" for name, count in sorted(counts.items()))
        latency = " / ".join(f"{percentile(seconds, p):,.0f}" for p in (50, 95, 99))
        rate, share = total / step.seconds, 100 * errors / total
        pool = f"{step.pool_peak:.0f} / {step.pool_capacity:.0f}"
        print(
            f"| {step.clients} | {rate:,.1f} | {share:.2f} % | {shown} | {latency} | {pool}"
            f" | {step.sync} |"
        )
        bad = counts["5xx"] + counts["no answer"] + counts["503"]
        if bad or (step.clients <= 32 and (counts["503 +Retry-After"] or counts["503"])):
            healthy = False
    for step in steps:
        print(f"\n{step.clients} clients, per kind (p50 / p95 / p99 ms, requests):")
        by_kind = defaultdict(list)
        for answer in step.answers:
            by_kind[answer.kind].append(answer.seconds)
        for kind, _ in MIX:
            values = by_kind.get(kind, [])
            if values:
                latency = " / ".join(f"{percentile(values, p):,.0f}" for p in (50, 95, 99))
                print(f"  {kind:<18} {latency:>20}  {len(values):>7,}")
        print("  memory (RSS MB: start -> end, peak):")
        for role, (first, last, peak) in sorted(step.memory.items()):
            print(f"    {role:<24} {first:6.0f} -> {last:6.0f}, peak {peak:6.0f}")
        print(f"  gunicorn worker processes seen: {step.web_workers_seen} (max_requests recycles)")
    return healthy


def main() -> None:
    """Prepare the fleet, run the stack, load it step by step, print the figures."""
    args = arguments()
    with empty_redis(args.redis_url) as redis_url, tempfile.TemporaryDirectory() as tmp:
        url = prepare_database(
            args.database_url,
            redis_url,
            args.database,
            sims=args.sims,
            days=args.days,
            fresh=args.fresh,
            # The simulator's own SIMs: same account, same ICCIDs.
            account=(PLACEHOLDER_API_URL, CLIENT_ID),
            before_first=int(iccid_for(first_serial(SIMULATOR_SEED))) - 1,
        )
        targets = sample_targets(url)
        with stack(args, url, redis_url, Path(tmp)) as running:
            clients = create_clients(running.app, max(args.clients))
            keeper = SyncKeeper(running.app, url)
            keeper.start()
            time.sleep(15)  # every kind under way before the first step
            steps = [
                run_step(running, clients, targets, count, args.seconds, keeper)
                for count in args.clients
            ]
            keeper.stopped.set()
            keeper.join()
    if not report(args, steps):
        print(
            "\nFAIL: a 5xx other than 503 with Retry-After, a hang, or a 503 at 32 clients or fewer"
        )
        sys.exit(1)
    print("\nPASS: no 500, no hang; overload (if any) answered 429/503 with Retry-After")


def arguments() -> argparse.Namespace:
    """The command line."""
    options = parser(__doc__.splitlines()[0])
    options.add_argument("--database", default="simfleet_load_bench", help="kept between runs")
    options.add_argument("--fresh", action="store_true", help="drop and reload the database")
    options.add_argument("--sims", type=int, default=100_000)
    options.add_argument("--days", type=int, default=183)
    options.add_argument("--clients", default="8,32,128", help="comma-separated steps")
    options.add_argument("--seconds", type=float, default=120)
    options.add_argument("--simulator-rps", type=float, default=10.0, help="1NCE's /sims limit")
    options.add_argument("--max-rps", type=float, default=8.0, help="ONCE_MAX_RPS (default 8)")
    args = options.parse_args()
    args.clients = [int(count) for count in args.clients.split(",")]
    return args


if __name__ == "__main__":
    main()
