"""What every benchmark needs: a scratch database, a migrated app, Redis, the simulator."""

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import flask_migrate
import psycopg
import redis as redis_lib
import requests
import sqlalchemy as sa
from flask import Flask
from psycopg import sql
from rq import Worker

from devtools.devstack import free_port
from webapp import create_app
from webapp.extensions import db
from webapp.models import SyncRun
from webapp.tasks import enqueue

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/12"
CLIENT_ID, CLIENT_SECRET = "simfleet-demo", "simfleet-demo-secret"


def parser(description: str) -> argparse.ArgumentParser:
    """An argument parser with the options every benchmark shares."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--database-url",
        default=DEFAULT_DATABASE_URL,
        help="server (and maintenance database) on which a scratch database is created",
    )
    parser.add_argument(
        "--redis-url", default=DEFAULT_REDIS_URL, help="Redis database, flushed before and after"
    )
    return parser


@contextmanager
def scratch_database(server_url: str) -> Iterator[str]:
    """Create an empty database next to `server_url`'s, yield its URL, then drop it."""
    name = f"simfleet_bench_{os.getpid()}"
    base, _, _ = server_url.rpartition("/")
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@contextmanager
def empty_redis(url: str) -> Iterator[str]:
    """Flush the Redis database of `url` before and after use."""
    client = redis_lib.Redis.from_url(url)
    client.flushdb()
    try:
        yield url
    finally:
        client.flushdb()
        client.close()


def app_env(database_url: str, redis_url: str, **extra: Any) -> dict[str, str]:
    """The environment of a Simfleet process on the benchmark's database and Redis."""
    return {
        **os.environ,
        "APP_ENV": "development",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "RATELIMIT_ENABLED": "false",
        "LOG_LEVEL": "WARNING",
        **{name: str(value) for name, value in extra.items()},
    }


def app_settings(database_url: str, redis_url: str, **overrides: Any) -> dict:
    """`create_app` overrides for the benchmark's database and Redis."""
    return {
        "APP_ENV": "development",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "RATELIMIT_ENABLED": False,
        "LOG_LEVEL": "WARNING",
        **overrides,
    }


def migrated_app(database_url: str, redis_url: str, **overrides: Any) -> Flask:
    """A Simfleet app on `database_url`, migrated to head."""
    app = create_app(app_settings(database_url, redis_url, **overrides))
    with app.app_context():
        flask_migrate.upgrade()
        db.engine.dispose()
    return app


def once_settings(root: str, max_rps: float) -> dict:
    """Settings that point the app's 1NCE client at the simulator served at `root`."""
    return {
        "ONCE_API_URL": f"{root}/management-api",
        "ONCE_CLIENT_ID": CLIENT_ID,
        "ONCE_CLIENT_SECRET": CLIENT_SECRET,
        "ONCE_MAX_RPS": max_rps,
    }


@contextmanager
def simulator(*, sims: int, rps: float, env: dict[str, str]) -> Iterator[str]:
    """Serve the 1NCE simulator in a separate process; yield its root URL."""
    port = free_port()
    command = [sys.executable, "-m", "simulator", "serve"]
    command += ["--port", str(port), "--sims", str(sims), "--rps", str(rps)]
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    root = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(root, process)
        yield root
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_until_up(root: str, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the simulator exited with status {process.returncode}")
        try:
            requests.get(f"{root}/_sim/stats", timeout=1).raise_for_status()
            return
        except requests.ConnectionError:
            time.sleep(0.2)
    raise RuntimeError("the simulator did not start")


def simulator_stats(root: str) -> dict:
    """The simulator's request counters (`requests`, `status_429`, `peak_rps`, ...)."""
    response = requests.get(f"{root}/_sim/stats", timeout=5)
    response.raise_for_status()
    return response.json()


def reset_simulator_stats(root: str) -> None:
    """Zero the simulator's request counters."""
    requests.post(f"{root}/_sim/stats/reset", timeout=5).raise_for_status()


@contextmanager
def rq_workers(count: int, env: dict[str, str]) -> Iterator[list[subprocess.Popen]]:
    """`count` `python -m worker` processes, registered and idle; stopped afterwards."""
    processes = [
        subprocess.Popen([sys.executable, "-m", "worker"], cwd=ROOT, env=env) for _ in range(count)
    ]
    connection = redis_lib.Redis.from_url(env["REDIS_URL"])
    try:
        deadline = time.monotonic() + 60
        while len(Worker.all(connection=connection)) < count:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{count} RQ workers did not start")
            time.sleep(0.2)
        yield processes
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        connection.close()


def run_sync_job(kind: str, *, timeout: float) -> tuple[SyncRun, datetime]:
    """Enqueue the real `sync_start(kind)` job and wait for the run it starts to end.

    Returns the run, loaded and detached from the session, and when the job was enqueued.
    Needs an app context.
    """
    enqueued = datetime.now(UTC)
    enqueue("worker.jobs.sync_start", kind)
    deadline = time.monotonic() + timeout
    query = sa.select(SyncRun).where(
        SyncRun.kind == kind, SyncRun.started_at >= enqueued, SyncRun.finished_at.is_not(None)
    )
    while time.monotonic() < deadline:
        db.session.rollback()
        run = db.session.scalar(query)
        if run is not None:
            db.session.expunge(run)
            return run, enqueued
        time.sleep(0.2)
    raise RuntimeError(f"the {kind} run did not end within {timeout:.0f} s")


def describe_machine() -> str:
    """The CPU count and load average: other work on the machine disturbs the figures."""
    one, five, _ = os.getloadavg()
    return f"{os.cpu_count()} cores, load average {one:.2f} (1 min), {five:.2f} (5 min)"


def print_table(rows: list[tuple]) -> None:
    """Print (label, value) rows aligned."""
    width = max(len(str(label)) for label, _ in rows)
    for label, value in rows:
        print(f"  {label:<{width}}  {value}")
