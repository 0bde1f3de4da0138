"""The browser tests' live stack: the 1NCE simulator, Gunicorn, an RQ worker, and Chromium.

Everything is real and started once per session: the simulator serves a 200-SIM fleet over
HTTP, `flask sync run all` fills a database of its own from it, Gunicorn serves the app with
the production settings file, `python -m worker` runs the jobs (the scheduler's hourly
dashboard figures once, by hand), and Playwright drives the system Chromium. The browser
tests run after all other tests (the others flush the shared Redis database and would pull
it from under the worker), and their database is separate, so the `app` fixture's
truncation and the browser tests never see each other's rows.
"""

import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis as redis_lib
import requests
from flask import Flask
from playwright.sync_api import Page

from devtools import devstack
from tests.browser.helpers import watch_page
from tests.chromium import ACTION_TIMEOUT_MS
from tests.fixtures_simulator import LiveSimulator, start_simulator
from tests.helpers import PASSWORD, app_settings, eventually, reset_and_migrate, sibling_database
from webapp import create_app
from webapp.admin.services import create_user
from webapp.extensions import db
from webapp.models import Role
from webapp.tasks import enqueue

ROOT = Path(__file__).resolve().parents[2]
FLEET_SIMS = 200
# The simulator is local: let it and the app's pacer go fast, so the initial sync of the
# whole fleet (about 1,200 calls) takes seconds, not minutes at 1NCE's real 10 per second.
SIMULATOR_RPS = 400
APP_MAX_RPS = 300
VIEWPORT = {"width": 1280, "height": 800}
START_TIMEOUT = 60
USERS = {role: f"{role.value}@example.com" for role in Role}


@dataclass
class Service:
    """A process of the stack, with its output in a log file for failure messages."""

    name: str
    process: subprocess.Popen
    log: Path

    def tail(self, lines: int = 40) -> str:
        """The last lines this process wrote."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def check_alive(self) -> None:
        """Fail the session with the process's output if it has exited."""
        if self.process.poll() is not None:
            pytest.fail(
                f"{self.name} exited with status {self.process.returncode}:\n{self.tail()}",
                pytrace=False,
            )


def stop_all(services: list[Service]) -> None:
    """Ask every process to stop (SIGTERM) at once; kill those still there after 15 s."""
    running = [service.process for service in services if service.process.poll() is None]
    for process in running:
        process.terminate()
    for process in running:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@dataclass
class Stack:
    """The running stack: its URL, the simulator, an app on the same database, the users."""

    url: str
    simulator: LiveSimulator
    app: Flask
    env: dict[str, str]
    services: list[Service] = field(default_factory=list)
    users: dict[str, str] = field(default_factory=lambda: {r.value: e for r, e in USERS.items()})
    password: str = PASSWORD

    def check_alive(self) -> None:
        """Fail if Gunicorn or the worker died (their output goes into the message)."""
        for service in self.services:
            service.check_alive()


@pytest.fixture(scope="session")
def browser_database_url(database_url, redis_url) -> str:
    """A database of the browser tests' own on the test server, reset and migrated to head."""
    url = sibling_database(database_url, "browser")
    reset_and_migrate(url, redis_url)
    return url


def _stack_env(*, database_url: str, redis_url: str, simulator: LiveSimulator) -> dict[str, str]:
    """The environment of the stack's processes: ours only, nothing inherited that configures."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("ONCE_", "SYNC_", "GUNICORN_", "PROMETHEUS_"))
        and name not in ("DATABASE_URL", "REDIS_URL", "BIND", "PORT", "WEB_CONCURRENCY")
    }
    env.update(
        # As deployed: production settings. Chromium keeps Secure cookies from 127.0.0.1,
        # which counts as a secure context, so sessions work over plain HTTP here.
        APP_ENV="production",
        SECRET_KEY="browser-tests-secret-key-" + "x" * 32,
        METRICS_TOKEN="browser-tests-metrics-token",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        **{name: str(value) for name, value in simulator.app_settings(max_rps=APP_MAX_RPS).items()},
        # Sign-ins of every test come from one address: keep the per-IP limit out of the way.
        LOGIN_LIMIT_PER_IP="1000 per minute",
        # Small chunks, so "sync now" of a per-SIM kind shows several steps of progress.
        SYNC_CHUNK_SIMS="25",
        LOG_LEVEL="WARNING",
        WEB_CONCURRENCY="2",
        GUNICORN_THREADS="4",
        PYTHONUNBUFFERED="1",
    )
    return env


def _start(name: str, args: list[str], env: dict[str, str], log_dir: Path) -> Service:
    """Start a process of the stack in the repository root, its output going to a log file."""
    log = log_dir / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    return Service(name=name, process=process, log=log)


def _wait_ready(url: str, service: Service) -> None:
    """Wait until `url` answers 200, failing early with the log if the process exits."""

    def ready() -> bool:
        service.check_alive()
        try:
            return requests.get(url, timeout=2).status_code == 200
        except requests.RequestException:
            return False

    eventually(
        ready,
        timeout=START_TIMEOUT,
        interval=0.2,
        message=lambda: (
            f"{service.name} not ready at {url} after {START_TIMEOUT} s:\n" + service.tail()
        ),
    )


def _sync_fleet(env: dict[str, str]) -> None:
    """Fill the database from the simulator with the real sync, as an operator would."""
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "sync", "run", "all"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        pytest.fail(f"initial sync failed:\n{result.stdout}\n{result.stderr}", pytrace=False)


def _create_users(app: Flask) -> None:
    """One user per role, with the shared test password."""
    with app.app_context():
        for role, email in USERS.items():
            create_user(email=email, password=PASSWORD, role=role)
        db.session.commit()


def _wait_for_job(app: Flask, job_name: str, service: Service) -> None:
    """Enqueue a job and wait until the worker has run it: proof that the worker works."""
    with app.app_context():
        job = enqueue(job_name)

        def finished() -> bool:
            service.check_alive()
            status = job.get_status(refresh=True)
            if status == "failed":
                pytest.fail(f"{job_name} failed:\n{service.tail()}")
            return status == "finished"

        eventually(
            finished,
            timeout=START_TIMEOUT,
            interval=0.1,
            message=lambda: f"{job_name} did not finish ({job.get_status()}):\n{service.tail()}",
        )


@pytest.fixture(scope="session")
def stack(browser_database_url, redis_url) -> Iterator[Stack]:
    """Simulator, synced database, users, Gunicorn and a worker; all stopped at the end."""
    redis_lib.Redis.from_url(redis_url).flushdb()
    simulator = start_simulator(sims=FLEET_SIMS, seed=7, write_delay=0.2, rps=SIMULATOR_RPS)
    app = create_app(
        app_settings(browser_database_url, redis_url, **simulator.app_settings(max_rps=APP_MAX_RPS))
    )
    env = _stack_env(database_url=browser_database_url, redis_url=redis_url, simulator=simulator)
    port = devstack.free_port()
    stack = Stack(url=f"http://127.0.0.1:{port}", simulator=simulator, app=app, env=env)
    with tempfile.TemporaryDirectory(prefix="simfleet-browser-") as log_dir:
        try:
            # Gunicorn and the worker boot while the sync fills the database.
            bin_dir = Path(sys.executable).parent
            web_args = [str(bin_dir / "gunicorn"), "--bind", f"127.0.0.1:{port}", "wsgi:app"]
            web = _start("gunicorn", web_args, env, Path(log_dir))
            stack.services.append(web)
            worker = _start("worker", [sys.executable, "-m", "worker"], env, Path(log_dir))
            stack.services.append(worker)
            _create_users(app)
            _sync_fleet(env)
            _wait_ready(f"{stack.url}/health/ready", web)
            _wait_for_job(app, "worker.jobs.heartbeat", worker)
            # The dashboard's top lists come from an hourly job of the scheduler (which the
            # stack does not run): compute them once over the synced usage, as it would.
            _wait_for_job(app, "worker.jobs.refresh_usage_periods", worker)
            yield stack
        finally:
            stop_all(stack.services)
            simulator.stop()
            with app.app_context():
                db.engine.dispose()


@pytest.fixture(scope="session")
def signed_in_states(stack) -> dict[str, dict]:
    """Per role, the cookies of a session signed in through the form once (reused by tests)."""
    return {}


@pytest.fixture
def new_page(stack, browser) -> Iterator[Callable[..., Page]]:
    """Open pages in fresh browser contexts; each page's console is watched for errors.

    After the test, every page must be free of console errors, uncaught exceptions and CSP
    violations, except those a test allowed with `page.watch.allow(...)`.
    """
    contexts, watches = [], []

    def open_page(storage_state: dict | None = None) -> Page:
        context = browser.new_context(
            base_url=stack.url, viewport=VIEWPORT, storage_state=storage_state
        )
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        watches.append(watch_page(page))
        return page

    yield open_page
    problems = [problem for watch in watches for problem in watch.problems()]
    for context in contexts:
        context.close()
    stack.check_alive()
    assert not problems, "browser console problems:\n" + "\n".join(problems)


def sign_in(page: Page, *, email: str, password: str) -> None:
    """Sign in through the login form and wait for the dashboard."""
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")


@pytest.fixture
def signed_in_page(stack, new_page, signed_in_states) -> Callable[[str], Page]:
    """signed_in_page(role): a page whose user of that role is signed in, on the dashboard."""

    def open_signed_in(role: str) -> Page:
        if role not in signed_in_states:
            page = new_page()
            sign_in(page, email=stack.users[role], password=stack.password)
            signed_in_states[role] = page.context.storage_state()
            return page
        page = new_page(storage_state=signed_in_states[role])
        page.goto("/")
        return page

    return open_signed_in
