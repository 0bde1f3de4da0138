"""Shared fixtures: real PostgreSQL and Redis (configured or embedded), app, client, users."""

import os
import secrets
import tempfile
from pathlib import Path
from types import FunctionType, ModuleType

import pytest
import redis as redis_lib
import sqlalchemy as sa
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer

from devtools import devstack
from tests.helpers import PASSWORD, app_settings, reset_and_migrate, serve_app
from webapp import create_app
from webapp.admin.services import create_user
from webapp.extensions import db
from webapp.models import ProviderAccount, Role, Sim
from webapp.timeseries import timescaledb_loadable

pytest_plugins = ["tests.fixtures_simulator", "tests.chromium"]

# Parallel sessions on one server each name their own database.
TEST_DATABASE = os.environ.get("TEST_DATABASE_NAME", "simfleet_test")
BROWSER_TESTS = Path(__file__).resolve().parent / "browser"


def _from_playwright(value: object) -> bool:
    """Whether a module global is Playwright's: a module, class, function or object of it."""
    if isinstance(value, ModuleType):
        name = value.__name__
    elif isinstance(value, type | FunctionType):
        name = value.__module__
    else:
        # Not the object's own attribute: a proxy (flask.request) would look it up outside.
        name = type(value).__module__
    return name.partition(".")[0] == "playwright"


def drives_chromium(item: pytest.Item) -> bool:
    """Whether a test drives Chromium, and so is a `browser` test.

    It does if it lives in tests/browser, uses the `playwright` fixture (the `browser`
    fixture and every page fixture build on it), or its module imports Playwright.
    """
    if BROWSER_TESTS in Path(item.path).parents:
        return True
    if "playwright" in getattr(item, "fixturenames", ()):
        return True
    module = getattr(item, "module", None)
    return module is not None and any(map(_from_playwright, vars(module).values()))


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(config, items):
    """Mark every test that drives Chromium `browser`, and run those after all others.

    A wrapper: the marks are there before `-m` selects, and the order is set after any
    other plugin has ordered the items. The tests on the browser stack (`stack`) go last of
    all: every other test flushes the shared Redis database, which would pull the queues
    from under the stack's worker.
    """
    for item in items:
        if drives_chromium(item):
            item.add_marker(pytest.mark.browser)
    result = yield
    items.sort(
        key=lambda item: (
            item.get_closest_marker("browser") is not None,
            "stack" in getattr(item, "fixturenames", ()),
        )
    )
    return result


@pytest.fixture(scope="session")
def embedded_dir():
    """A scratch directory for embedded servers, removed after the session."""
    with tempfile.TemporaryDirectory(prefix="simfleet-test-") as path:
        yield Path(path)


@pytest.fixture(scope="session")
def database_url(embedded_dir):
    """A PostgreSQL database for this test session: the configured server, or an embedded one."""
    configured = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if configured:
        base, _, _ = configured.rpartition("/")
        devstack.create_database(f"{base}/postgres", TEST_DATABASE)
        yield f"{base}/{TEST_DATABASE}"
        return
    pg_dir = embedded_dir / "pg"
    url = devstack.start_postgres(pg_dir, TEST_DATABASE)
    yield url
    devstack.stop_postgres(pg_dir)


@pytest.fixture(scope="session")
def redis_url(embedded_dir):
    """A Redis for this test session: the configured server (database 15), or an embedded one."""
    configured = os.environ.get("TEST_REDIS_URL")
    if configured:
        yield configured
        return
    if os.environ.get("REDIS_URL"):
        base, _, _ = os.environ["REDIS_URL"].rpartition("/")
        yield f"{base}/15"
        return
    process, url = devstack.start_redis(embedded_dir / "redis")
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def redis(redis_url):
    """A Redis client on an empty database."""
    client = redis_lib.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.close()


# --- the app ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def timescaledb(database_url) -> bool:
    """Whether the test database server can load TimescaleDB (tests run on both kinds)."""
    engine = sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        loadable = timescaledb_loadable(conn)
    engine.dispose()
    return loadable


@pytest.fixture(scope="session")
def migrated_database(database_url, redis_url):
    """Reset the test database and migrate it to head, once per session."""
    reset_and_migrate(database_url, redis_url)
    return database_url


@pytest.fixture
def settings(migrated_database, redis_url) -> dict:
    """The overrides the `app` fixture uses; a test may change them before asking for `app`."""
    return app_settings(migrated_database, redis_url)


@pytest.fixture
def app(settings, redis):
    """A Simfleet app on the migrated test database; every table is emptied afterwards."""
    app = create_app(settings)
    app.test_client_class = CsrfClient
    with app.app_context():
        yield app
        db.session.remove()
        tables = ", ".join(
            f'"{t.name}"' for t in db.metadata.sorted_tables if t.name != "alembic_version"
        )
        with db.engine.begin() as conn:
            conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        db.engine.dispose()


@pytest.fixture
def make_app(settings):
    """Build extra apps with changed settings; their connection pools are closed afterwards."""
    apps = []

    def make(**overrides):
        apps.append(create_app({**settings, **overrides}))
        return apps[-1]

    yield make
    for extra in apps:
        with extra.app_context():
            db.engine.dispose()


class CsrfClient(FlaskClient):
    """A test client that sends a valid CSRF token with every unsafe request (csrf=False not)."""

    def open(self, *args, csrf: bool = True, **kwargs):
        method = kwargs.get("method", "GET").upper()
        if csrf and method not in ("GET", "HEAD", "OPTIONS"):
            headers = dict(kwargs.pop("headers", None) or {})
            headers.setdefault("X-CSRFToken", self.csrf_token())
            kwargs["headers"] = headers
        return super().open(*args, **kwargs)

    def csrf_token(self) -> str:
        """A signed token for this client's session, as a rendered form would carry."""
        with self.session_transaction() as session:
            raw = session.setdefault("csrf_token", secrets.token_hex(20))
        serializer = URLSafeTimedSerializer(self.application.secret_key, salt="wtf-csrf-token")
        return serializer.dumps(raw)


@pytest.fixture
def client(app):
    """A test client for `app`."""
    return app.test_client()


@pytest.fixture
def live_url(app):
    """`app` served over HTTP on a free port for the test's duration: its base URL."""
    served = serve_app(app)
    yield served.url
    served.stop()


@pytest.fixture
def make_user(app):
    """Create users: make_user(role="operator", email=..., password=...)."""

    def make(role: str = "viewer", email: str | None = None, password: str = PASSWORD):
        user = create_user(
            email=email or f"{role}-{secrets.token_hex(3)}@example.com",
            password=password,
            role=Role(role),
        )
        db.session.commit()
        return user

    return make


@pytest.fixture
def make_sim(app):
    """Create synced SIMs: make_sim(iccid=..., **columns) with plausible defaults."""
    counter = iter(range(1, 10**6))

    def make(iccid: str | None = None, **columns) -> Sim:
        account = db.session.scalar(sa.select(ProviderAccount))
        if account is None:
            account = ProviderAccount(
                name="1NCE", api_url="http://127.0.0.1:9/management-api", client_id="test"
            )
            db.session.add(account)
            db.session.flush()
        n = next(counter)
        sim = Sim(
            iccid=iccid or f"89882280660000{n:05d}",
            account_id=account.id,
            imsi=f"90140510000{n:04d}",
            msisdn=f"88235100{n:04d}",
            **{"status": "Enabled"} | columns,
        )
        db.session.add(sim)
        db.session.commit()
        return sim

    return make


@pytest.fixture
def login(client, make_user):
    """Sign the test client in with a new user of the given role; returns the user."""

    def sign_in(role: str = "viewer"):
        user = make_user(role)
        response = client.post("/login", data={"email": user.email, "password": PASSWORD})
        assert response.status_code == 303, response.text
        return user

    return sign_in
