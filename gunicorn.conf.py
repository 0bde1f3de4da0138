"""Gunicorn settings for the web process, read from the environment.

Gunicorn loads this file by itself from the working directory; options on its command line
win over it. See docs/deployment.md for the variables and their defaults.
"""

import math
import os
import re
import shutil
import tempfile
from pathlib import Path

TEMPORARY_DIR_MARKER = "SIMFLEET_PROMETHEUS_TEMPORARY_DIR"
PROMETHEUS_FILE = re.compile(r"^(counter|gauge_[a-z]+|histogram|summary)_\d+\.db$")


def _env_int(name: str, default: int) -> int:
    """An integer setting from the environment, or `default` when unset or empty."""
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _available_cores() -> int:
    """CPUs this process may use: its affinity, lowered by a cgroup v2 CPU quota if any."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()
        if quota != "max":
            cores = min(cores, math.ceil(int(quota) / int(period)))
    except (OSError, ValueError):
        pass
    return max(cores or 1, 1)


def _bind() -> list[str]:
    """BIND (comma-separated), else 0.0.0.0:$PORT as gunicorn does, else loopback only."""
    if os.environ.get("BIND"):
        return [address.strip() for address in os.environ["BIND"].split(",") if address.strip()]
    if os.environ.get("PORT"):
        return [f"0.0.0.0:{os.environ['PORT']}"]
    return ["127.0.0.1:8000"]


def _prometheus_dir() -> str:
    """The metrics directory shared by all workers: the configured one, or a new temporary one.

    Exported before any worker starts, so that each worker writes its metrics to files there
    and the /metrics view of any worker aggregates them all. A reload (SIGHUP) reads this file
    again and then finds the variable set, so it keeps the same directory.
    """
    configured = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if configured:
        os.makedirs(configured, exist_ok=True)
        return configured
    created = tempfile.mkdtemp(prefix="simfleet-prometheus-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = created
    os.environ[TEMPORARY_DIR_MARKER] = created
    return created


bind = _bind()
# Each worker holds its own database pool: past a handful, add machines rather than workers.
workers = _env_int("WEB_CONCURRENCY", min(2 * _available_cores() + 1, 8))
threads = _env_int("GUNICORN_THREADS", 2)
# gthread, timing each request's wait for a thread: the app refuses those that waited longer
# than WEB_QUEUE_LIMIT_SECONDS (webapp/load_shedding.py).
worker_class = "webapp.load_shedding.SheddingThreadWorker"
timeout = _env_int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _env_int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _env_int("GUNICORN_KEEPALIVE", 5)
max_requests = _env_int("GUNICORN_MAX_REQUESTS", 1000)
max_requests_jitter = _env_int("GUNICORN_MAX_REQUESTS_JITTER", 100)
# Addresses of the proxy in front, trusted for X-Forwarded-Proto. The app's ProxyFix trusts
# PROXY_HOPS proxies: set both for the same chain, or neither (direct exposure).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# The app logs one line per request itself.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# gunicornc's control socket (gunicorn 25.1+) is opt-in: its default path in $HOME would be
# shared by every gunicorn of a user and is not writable in a locked-down container.
control_socket_disable = not os.environ.get("GUNICORN_CONTROL_SOCKET")
if not control_socket_disable:
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
# The worker heartbeat file: on tmpfs, a slow overlay filesystem cannot stall it.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

PROMETHEUS_MULTIPROC_DIR = _prometheus_dir()


def on_starting(server):
    """Remove metric files a previous run left behind: their counts are not ours."""
    for path in Path(PROMETHEUS_MULTIPROC_DIR).iterdir():
        if path.is_file() and PROMETHEUS_FILE.match(path.name):
            path.unlink(missing_ok=True)


def child_exit(server, worker):
    """Fold an exited worker's live gauges out of the aggregate."""
    from prometheus_flask_exporter.multiprocess import GunicornPrometheusMetrics

    GunicornPrometheusMetrics.mark_process_dead_on_child_exit(worker.pid)


def on_exit(server):
    """Remove the metrics directory if this config made it."""
    if os.environ.get(TEMPORARY_DIR_MARKER) == PROMETHEUS_MULTIPROC_DIR:
        shutil.rmtree(PROMETHEUS_MULTIPROC_DIR, ignore_errors=True)
