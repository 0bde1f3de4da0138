"""`python -m worker`: an RQ worker on the sync, actions and default queues."""

import logging

from webapp import create_app
from webapp.extensions import get_redis
from webapp.tasks import QUEUES, get_queue
from worker import AppWorker

log = logging.getLogger("simfleet.worker")


def main() -> None:
    """Run one worker until it is told to stop (SIGTERM/SIGINT finish the current job)."""
    app = create_app()
    # Jobs run in a forked work horse that inherits this app context.
    with app.app_context():
        queues = [get_queue(name) for name in QUEUES]
        worker = AppWorker(queues, connection=get_redis())
        log.info("worker %s listening on %s", worker.name, ", ".join(QUEUES))
        worker.work(logging_level=app.config["LOG_LEVEL"])


if __name__ == "__main__":
    main()
