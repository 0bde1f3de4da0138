"""Redis down is degraded service, not a broken app: a private Redis is stopped mid-test.

Each test stops a redis-server of its own (never the shared one others use), checks what a
user or a script sees meanwhile, starts it again on the same port and checks that the same
app, without a restart, uses Redis again.
"""

import subprocess
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import redis as redis_lib

from devtools import devstack
from tests.api.test_access import ICCID as API_ICCID
from tests.api.test_access import READS as API_READS
from tests.api.test_access import WRITES as API_WRITES
from tests.helpers import PASSWORD, eventually
from tests.test_access import ICCID, ROUTES
from webapp.apikeys.services import create_api_key
from webapp.extensions import db, limiter
from webapp.models import SyncRun
from webapp.models.base import utcnow

# Every page the access matrix reads (and the metrics under /api/v1, which are no API call).
PAGE_READS = sorted(
    path
    for method, path, _ in ROUTES
    if method == "GET" and (not path.startswith("/api/v1/") or path == "/api/v1/metrics")
)


@dataclass
class PrivateRedis:
    """A redis-server of this test's own, on a fixed port so that it can come back there."""

    data_dir: Path
    url: str
    process: subprocess.Popen

    @property
    def port(self) -> int:
        """The port it listens on, also after a restart."""
        return int(self.url.rsplit(":", 1)[1].split("/")[0])

    def stop(self) -> None:
        """Stop the server (its data stays on disk)."""
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def start(self) -> None:
        """Start it again on the same port, with the data it had."""
        if self.process.poll() is not None:
            self.process, _ = devstack.start_redis(self.data_dir, port=self.port)

    def client(self) -> redis_lib.Redis:
        """A plain client of this server."""
        return redis_lib.Redis.from_url(self.url)


@pytest.fixture
def private_redis(tmp_path):
    """A redis-server for this test only; stopped (and the limiter back on Redis) afterwards."""
    process, url = devstack.start_redis(tmp_path / "redis")
    server = PrivateRedis(data_dir=tmp_path / "redis", url=url, process=process)
    yield server
    server.stop()
    # Flask-Limiter's fall-back is a property of the process-wide limiter, not of one app:
    # the next test's app starts on Redis again, as a restarted process would.
    limiter._storage_dead = False


@pytest.fixture
def settings(settings, private_redis):
    """The app on the private Redis, with the sign-in rate limits on (they use Redis)."""
    return {**settings, "REDIS_URL": private_redis.url, "RATELIMIT_ENABLED": True}


def test_sign_in_works_with_redis_down_and_its_limits_return_to_redis(
    client, make_user, private_redis
):
    user = make_user("viewer")
    private_redis.stop()

    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 303
    dashboard = client.get(response.headers["Location"])
    assert dashboard.status_code == 200
    assert "Fleet" in dashboard.text

    private_redis.start()
    counters = private_redis.client()

    def counted_in_redis() -> bool:
        client.post("/logout")
        client.post("/login", data={"email": user.email, "password": "wrong password"})
        return bool(counters.keys(f"*{user.email}*"))

    eventually(counted_in_redis, timeout=40, interval=0.5, message="limits stayed in memory")


@pytest.fixture
def write_key(app, make_sim):
    """A write key's header, and the SIM the API access matrix names."""
    make_sim(iccid=API_ICCID)
    _, key = create_api_key(name="script", scope="write")
    db.session.commit()
    return {"Authorization": f"Bearer {key}"}


def test_every_api_request_is_a_503_problem_with_retry_after(client, write_key, private_redis):
    requests = [("GET", path, None) for path in [*API_READS, "/api/v1/openapi.json"]]
    requests += API_WRITES
    private_redis.stop()

    for method, path, body in requests:
        response = client.open(path, method=method, json=body, headers=write_key)
        assert response.status_code == 503, (method, path, response.text)
        assert response.mimetype == "application/problem+json"
        assert response.json["type"] == "urn:simfleet:problem:unavailable"
        assert "Redis" in response.json["detail"]
        assert int(response.headers["Retry-After"]) > 0

    private_redis.start()
    assert client.get(f"/api/v1/sims/{API_ICCID}", headers=write_key).status_code == 200


def test_sync_page_shows_the_runs_and_a_notice_and_sync_now_says_why_not(
    client, login, private_redis
):
    login("operator")
    finished = utcnow() - timedelta(minutes=5)
    db.session.add(
        SyncRun(
            kind="inventory",
            started_at=finished - timedelta(seconds=3),
            finished_at=finished,
            outcome="success",
            sims_done=4321,
        )
    )
    db.session.commit()
    private_redis.stop()

    page = client.get("/sync")
    assert page.status_code == 200
    assert "The job queue (Redis) cannot be reached" in page.text
    assert "4321" in page.text

    queued = client.post("/sync/inventory", follow_redirects=True)
    assert queued.status_code == 200
    assert "sync not queued" in queued.text

    private_redis.start()
    assert client.post("/sync/inventory").status_code == 303
    assert private_redis.client().exists("rq:job:sync-now-inventory")
    assert "cannot be reached" not in client.get("/sync").text


def test_metrics_serve_what_needs_no_redis(client, private_redis):
    private_redis.stop()

    response = client.get("/metrics")
    assert response.status_code == 200
    assert "simfleet_sync_stale_sims{" in response.text
    assert "simfleet_redis_up 0.0" in response.text
    assert "simfleet_queue_jobs{" not in response.text

    private_redis.start()
    response = client.get("/metrics")
    assert "simfleet_redis_up 1.0" in response.text
    assert 'simfleet_queue_jobs{queue="sync"} 0.0' in response.text


def test_no_page_answers_500_with_redis_down(client, login, make_sim, private_redis):
    make_sim(iccid=ICCID)
    login("admin")
    private_redis.stop()

    statuses = {path: client.get(path).status_code for path in PAGE_READS}
    sync_card = client.get("/fleet/sync-status", headers={"HX-Request": "true"})

    assert statuses.pop("/health/ready") == 503
    assert not {path: status for path, status in statuses.items() if status >= 500}
    assert sync_card.status_code == 200
    assert "unknown, Redis cannot be reached" in sync_card.text
