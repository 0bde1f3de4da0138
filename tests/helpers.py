"""What many tests share: settings, databases, waiting for a condition, workers, servers."""

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import flask_migrate
import psycopg
import requests
from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from devtools import devstack
from webapp import create_app
from webapp.extensions import db, get_redis
from webapp.tasks import QUEUES, get_queue
from worker import AppWorker

ROOT = Path(__file__).resolve().parent.parent

T = TypeVar("T")

PASSWORD = "correct horse battery"
"""The password of every user the tests create (`make_user`, the browser stack's users)."""

UNKNOWN_ICCID = "8988228066999999999"
"""A well-formed ICCID that no SIM in the database or in the simulator has."""

# The settings a `python -m worker` or Gunicorn process needs to work like the test app.
PROCESS_SETTINGS = (
    "DATABASE_URL",
    "REDIS_URL",
    "ONCE_API_URL",
    "ONCE_CLIENT_ID",
    "ONCE_CLIENT_SECRET",
    "ONCE_API_VERSION",
    "ONCE_MAX_RPS",
    "SYNC_CHUNK_SIMS",
)


def app_settings(database_url: str, redis_url: str, **extra: Any) -> dict[str, Any]:
    """Overrides for create_app in tests: real servers, no rate limits unless asked for."""
    return {
        "APP_ENV": "testing",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "RATELIMIT_ENABLED": False,
        "HEARTBEAT_SECONDS": 60,
        **extra,
    }


def sibling_database(database_url: str, suffix: str) -> str:
    """Create the database `<name>_<suffix>` on the test database's server; return its URL.

    Named after the session's database, so parallel sessions each have their own. An
    embedded server's URL ends in a query (its socket directory): it is kept.
    """
    path, _, _ = database_url.partition("?")
    server, _, name = path.rpartition("/")
    query = database_url[len(path) :]
    sibling = f"{name}_{suffix}"
    devstack.create_database(f"{server}/postgres{query}", sibling)
    return f"{server}/{sibling}{query}"


def reset_and_migrate(database_url: str, redis_url: str) -> None:
    """Empty the database (its public schema) and migrate it to head."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    app = create_app(app_settings(database_url, redis_url))
    with app.app_context():
        flask_migrate.upgrade()
        db.engine.dispose()


def eventually(
    check: Callable[[], T],
    *,
    timeout: float = 5.0,
    interval: float = 0.05,
    message: str | Callable[[], str] = "the condition was not met in time",
    sleep: Callable[[float], Any] = time.sleep,
) -> T:
    """Call `check` until it returns something truthy and return that; fail after `timeout` s.

    `message` (or what it returns, to say what was seen last) is the failure's text. A
    Playwright test passes `sleep=lambda s: page.wait_for_timeout(s * 1000)`, so the page
    goes on receiving events while the test waits.
    """
    deadline = time.monotonic() + timeout
    while not (result := check()):
        if time.monotonic() >= deadline:
            raise AssertionError(message() if callable(message) else message)
        sleep(interval)
    return result


def drain_queues() -> None:
    """A real RQ worker (forking a work horse per job) that stops when the queues are empty."""
    AppWorker([get_queue(name) for name in QUEUES], connection=get_redis()).work(burst=True)


def process_env(app: Flask, **extra: str) -> dict[str, str]:
    """The environment of a `python -m worker` or Gunicorn process configured like `app`."""
    settings = {name: app.config[name] for name in PROCESS_SETTINGS}
    return {
        **os.environ,
        "APP_ENV": "testing",
        **{name: str(value) for name, value in settings.items() if value is not None},
        **extra,
    }


@contextmanager
def serve_gunicorn(
    app: Flask, *, log: Path | None = None, ready: str = "/health", **settings: str
) -> Iterator[str]:
    """Gunicorn (gunicorn.conf.py) configured like `app` with `settings`; yields its base URL.

    Waits until `ready` answers 2xx; stops it (SIGTERM) on the way out.
    """
    port = devstack.free_port()
    env = process_env(app, BIND=f"127.0.0.1:{port}", **settings)
    base = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            return requests.get(f"{base}{ready}", timeout=5).ok
        except requests.RequestException:
            return False

    with ExitStack() as stack:
        output = stack.enter_context(log.open("wb")) if log else subprocess.DEVNULL
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "wsgi:app"],
            cwd=ROOT, env=env, stdout=output, stderr=output,
        )  # fmt: skip
        stack.callback(process.wait, timeout=30)
        stack.callback(process.terminate)
        eventually(answers, timeout=30, interval=0.2, message=f"Gunicorn: no {ready} in 30 s")
        yield base


def start_rq_worker(app: Flask) -> subprocess.Popen:
    """`python -m worker` configured like `app`, in its own process group (to kill it whole)."""
    return subprocess.Popen(
        [sys.executable, "-m", "worker"], env=process_env(app), start_new_session=True
    )


class QuietHandler(WSGIRequestHandler):
    """No access log lines in the test output."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@dataclass
class ServedApp:
    """A WSGI app served over HTTP from a thread of the test process, on a free port."""

    server: BaseWSGIServer
    thread: threading.Thread = field(repr=False)

    @property
    def url(self) -> str:
        """The base URL, e.g. http://127.0.0.1:PORT."""
        return f"http://127.0.0.1:{self.server.server_port}"

    def stop(self) -> None:
        """Shut the server down and wait for its thread."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


def serve_app(app: Any) -> ServedApp:
    """Serve `app` (threaded) until `stop()`; a short poll interval keeps stopping quick."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    return ServedApp(server=server, thread=thread)
