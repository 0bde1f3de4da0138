"""Background processes: the RQ worker, the scheduler and the jobs they run."""

from rq import Worker

from webapp.extensions import db


class AppWorker(Worker):
    """An RQ worker whose forked work horses open their own database connections."""

    def main_work_horse(self, *args, **kwargs):
        """Run the job in the forked child, on connections of its own."""
        # A forked child must never use the parent's pooled connections (SQLAlchemy's
        # advice for multiprocessing): forget them without closing the parent's sockets.
        db.engine.dispose(close=False)
        return super().main_work_horse(*args, **kwargs)
