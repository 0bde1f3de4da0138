#!/bin/sh
# Container entry point: one image, one process type per container.
#   web (default)  gunicorn wsgi:app, settings from gunicorn.conf.py and the environment
#   worker         the RQ worker (python -m worker)
#   scheduler      registers and runs the periodic jobs (python -m worker.scheduler)
#   migrate        flask --app wsgi db upgrade (run once per release, before web and worker)
#   healthcheck    used by the image's HEALTHCHECK: probes /health/live where gunicorn runs
# Any other command runs as given (a shell, `flask --app wsgi ...`). Extra arguments after a
# process type are passed on to it.
set -eu

cd "$(dirname "$0")/.."

command="${1:-web}"
if [ $# -gt 0 ]; then
  shift
fi

case "$command" in
  web)
    exec gunicorn --config gunicorn.conf.py "$@" wsgi:app
    ;;
  worker)
    exec python -m worker "$@"
    ;;
  scheduler)
    exec python -m worker.scheduler "$@"
    ;;
  migrate)
    exec flask --app wsgi db upgrade "$@"
    ;;
  healthcheck)
    # Only the web process serves HTTP; a worker or scheduler container is healthy while its
    # process runs (the container stops when it exits).
    exec python - <<'PY'
import os
import sys
import urllib.request
from pathlib import Path


def serves_http() -> bool:
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if b"gunicorn" in cmdline.read_bytes():
                return True
        except OSError:
            continue
    return False


def live_url() -> str | None:
    bind = os.environ.get("BIND", "").split(",")[0].strip()
    if not bind:
        bind = f"0.0.0.0:{os.environ['PORT']}" if os.environ.get("PORT") else "127.0.0.1:8000"
    if bind.startswith(("unix:", "fd://")):
        return None
    host, _, port = bind.rpartition(":")
    host = host.strip("[]")
    if host in ("", "0.0.0.0", "*"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/health/live"


url = live_url()
if not serves_http() or url is None:
    sys.exit(0)
try:
    with urllib.request.urlopen(url, timeout=4) as response:
        sys.exit(0 if response.status == 200 else 1)
except Exception as exc:
    print(f"{url}: {exc}", file=sys.stderr)
    sys.exit(1)
PY
    ;;
  *)
    exec "$command" "$@"
    ;;
esac
