"""Load shedding: a request that waited too long for a Gunicorn thread is answered 503 at once.

Past capacity, requests queue inside each Gunicorn worker; without a bound their wait grows
with the crowd until clients give up (a hang, as they see it). The worker class below notes
how long each request waited for a thread, and the app answers one that waited more than
WEB_QUEUE_LIMIT_SECONDS with 503 and Retry-After before doing any work for it, so the queue
drains at the rate the threads can serve and every client hears back within a bound.
"""

import threading
import time
from typing import Any

from flask import Flask, request
from gunicorn.workers.gthread import ThreadWorker

from webapp.errors import ServerBusy

_queue_wait = threading.local()  # the worker thread serving a request is the app's thread


class SheddingThreadWorker(ThreadWorker):
    """Gunicorn's gthread worker, timing each request's wait for a free thread."""

    def enqueue_req(self, conn: Any) -> None:
        """Stamp the connection as it joins the queue for a thread (it has data to read)."""
        conn.simfleet_queued_at = time.monotonic()
        super().enqueue_req(conn)

    def handle(self, conn: Any) -> Any:
        """Serve the connection in this thread, telling the app how long it queued."""
        _queue_wait.seconds = time.monotonic() - getattr(conn, "simfleet_queued_at", 0.0)
        try:
            return super().handle(conn)
        finally:
            _queue_wait.seconds = 0.0


def queued_seconds() -> float:
    """How long the current request waited for a thread (0 outside SheddingThreadWorker)."""
    return getattr(_queue_wait, "seconds", 0.0)


def register_load_shedding(app: Flask) -> None:
    """Refuse requests that queued longer than WEB_QUEUE_LIMIT_SECONDS (0: never)."""
    limit = app.config["WEB_QUEUE_LIMIT_SECONDS"]
    if not limit:
        return

    @app.before_request
    def shed_if_queued_too_long() -> None:
        # Probes are answered whatever the queue: an overloaded web process is alive.
        if queued_seconds() > limit and not request.path.startswith("/health"):
            raise ServerBusy()
