"""Extension instances, created unbound and attached to an app in `create_app`."""

import select
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import redis
import sqlalchemy as sa
from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from htmx_flask import Htmx
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from webapp.one_nce import OneNceClient, OneNceNotConfigured

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """The declarative base of every model, with named constraints."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
# The base class of the models. mypy cannot subclass an attribute such as `db.Model`
# (python/mypy#8603), so it sees `Base`, which `db.Model` extends with Flask-SQLAlchemy's mixins.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model


def drop_closed_connections(app: Flask) -> None:
    """Replace pooled connections the server has closed, without a round trip per checkout.

    A server that restarts or ends an idle session tells the client and closes the socket, so
    its socket turns readable; a live idle connection has nothing to read. Checking that costs
    one poll, where a pre-ping costs a round trip to PostgreSQL on every request (Go's MySQL
    driver checks connections the same way).
    """
    with app.app_context():
        for engine in db.engines.values():
            sa.event.listen(engine, "checkout", _refuse_if_readable)


def _refuse_if_readable(
    dbapi_connection: Any, connection_record: Any, connection_proxy: Any
) -> None:
    poller = select.poll()  # not select(): that fails on descriptors past 1023
    poller.register(dbapi_connection.fileno(), select.POLLIN)
    if poller.poll(0):
        # The pool discards this connection and checks out another, or connects anew.
        raise sa.exc.DisconnectionError("the server closed the connection")


migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
htmx = Htmx()
# When Redis cannot be reached, the limits (sign-in's among them) count in this process's
# memory instead of failing the request; Flask-Limiter pings Redis again with a growing
# back-off (1 s up to 32 s) and returns to it once it answers.
limiter = Limiter(
    key_func=get_remote_address,
    default_limits=[],
    in_memory_fallback_enabled=True,
    storage_options={"socket_connect_timeout": 2, "socket_timeout": 5},
)


class RedisConnection:
    """One Redis connection pool per app, shared by the limiter's peers, RQ and caches."""

    def init_app(self, app: Flask) -> None:
        """Open the app's pool on `REDIS_URL`, with short timeouts so a dead Redis fails fast."""
        app.extensions["redis"] = redis.Redis.from_url(
            app.config["REDIS_URL"], socket_connect_timeout=2, socket_timeout=5
        )


redis_connection = RedisConnection()


def get_redis() -> redis.Redis:
    """The current app's Redis client."""
    return current_app.extensions["redis"]


def get_client() -> OneNceClient:
    """The current app's 1NCE client, built from its config on first use in this process."""
    extensions = current_app.extensions
    client = extensions.get("one_nce")
    if client is None:
        # A race here builds two clients and keeps one; both share the same Redis state.
        client = extensions.setdefault("one_nce", client_from_config(current_app.config))
    return client


def client_from_config(config: Mapping[str, Any]) -> OneNceClient:
    """A new client from app settings (ONCE_*), e.g. one per API version to compare them."""
    if not config.get("ONCE_CLIENT_ID") or not config.get("ONCE_CLIENT_SECRET"):
        raise OneNceNotConfigured("ONCE_CLIENT_ID and ONCE_CLIENT_SECRET are not set")
    return OneNceClient(
        base_url=config["ONCE_API_URL"],
        client_id=config["ONCE_CLIENT_ID"],
        client_secret=config["ONCE_CLIENT_SECRET"],
        api_version=config["ONCE_API_VERSION"],
        redis=get_redis(),
        max_rps=config["ONCE_MAX_RPS"],
        connect_timeout=config["ONCE_CONNECT_TIMEOUT"],
        read_timeout=config["ONCE_READ_TIMEOUT"],
    )
