"""Worker memory: peak RSS of an RQ worker while it syncs a 100,000-SIM simulated fleet.

    python -m bench.worker_memory --sims 100000 --rps 100

Serves the simulator with --sims SIMs, starts one `python -m worker` and runs the real jobs:
`sync_start("inventory")` (all SIMs, 100 a page), then `sync_start("usage")`, whose budget
SYNC_USAGE_MINUTES=1 keeps to a subset (ONCE_MAX_RPS x 60 s x the usage share) so it ends in
minutes; both rate limits are raised for that. Meanwhile /proc is sampled every 50 ms for the
worker parent and the work horses it forks per job (VmRSS, and VmHWM for peaks between
samples). Passes when every process stays below 300 MB.
"""

import sys
import threading
from collections import defaultdict
from pathlib import Path

from bench.common import (
    app_env,
    describe_machine,
    empty_redis,
    migrated_app,
    once_settings,
    parser,
    print_table,
    rq_workers,
    run_sync_job,
    scratch_database,
    simulator,
    simulator_stats,
)
from webapp.extensions import db

TARGET_MB = 300
SAMPLE_SECONDS = 0.05


def memory_mb(pid: int) -> tuple[float, float]:
    """VmRSS and VmHWM (peak RSS) of a process in MB; zeros once it has exited."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0, 0.0
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    rss, peak = (int(fields.get(name, "0 kB").split()[0]) / 1024 for name in ("VmRSS", "VmHWM"))
    return rss, peak


def children(pid: int) -> list[int]:
    """The processes `pid` forked that are still running (the RQ work horse)."""
    try:
        return [
            int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        ]
    except FileNotFoundError:
        return []


class Sampler(threading.Thread):
    """Samples the worker and its work horses; peaks per phase and role (parent, horse)."""

    def __init__(self, worker_pid: int) -> None:
        super().__init__(daemon=True)
        self.worker_pid = worker_pid
        self.phase = "idle"
        self.peaks: dict[tuple[str, str], float] = defaultdict(float)
        self.stopped = threading.Event()

    def run(self) -> None:
        """Sample until stopped."""
        while not self.stopped.wait(SAMPLE_SECONDS):
            self._record("worker parent", self.worker_pid)
            for horse in children(self.worker_pid):
                self._record("work horse", horse)

    def _record(self, role: str, pid: int) -> None:
        key = (self.phase, role)
        self.peaks[key] = max(self.peaks[key], *memory_mb(pid))


def main() -> None:
    """Sync a large simulated fleet with one RQ worker and print its peak memory."""
    args = _arguments()
    with (
        scratch_database(args.database_url) as url,
        empty_redis(args.redis_url) as redis_url,
        simulator(sims=args.sims, rps=args.rps, env=app_env(url, redis_url)) as root,
    ):
        settings = {**once_settings(root, args.max_rps), "SYNC_USAGE_MINUTES": 1}
        app = migrated_app(url, redis_url, **settings)
        env = app_env(url, redis_url, **settings)
        with app.app_context(), rq_workers(1, env) as (worker,):
            sampler = Sampler(worker.pid)
            sampler.start()
            try:
                runs = {}
                for kind in ("inventory", "usage"):
                    sampler.phase = kind
                    runs[kind], _ = run_sync_job(kind, timeout=3600)
            finally:
                sampler.stopped.set()
                sampler.join()
                db.session.remove()
                db.engine.dispose()
        stats = simulator_stats(root)
    print(f"worker memory: one RQ worker syncs a simulated fleet of {args.sims:,} SIMs")
    print(f"  simulator limit {args.rps:g} /sims calls per s; ONCE_MAX_RPS {args.max_rps:g}")
    print(f"  machine after: {describe_machine()}; simulator 429 answers: {stats['status_429']}")
    rows = []
    for kind, run in runs.items():
        assert run.finished_at is not None, "run_sync_job waits for the run's end"
        duration = (run.finished_at - run.started_at).total_seconds()
        rows.append(
            (f"{kind} run", f"{run.outcome}: {run.sims_done:,} SIMs, {run.calls:,} calls,"
                            f" {run.rows:,} rows in {duration:.0f} s")
        )  # fmt: skip
        for role in ("worker parent", "work horse"):
            peak = sampler.peaks[(kind, role)]
            rows.append((f"  peak RSS, {role}", f"{peak:5.0f} MB  (target < {TARGET_MB})"))
    print_table(rows)
    if max(sampler.peaks.values()) >= TARGET_MB or any(
        r.outcome != "success" for r in runs.values()
    ):
        print(f"FAIL: a run did not succeed or a process reached {TARGET_MB} MB")
        sys.exit(1)
    print(f"PASS: every worker process below {TARGET_MB} MB")


def _arguments():
    options = parser(__doc__.splitlines()[0])
    options.add_argument("--sims", type=int, default=100_000)
    options.add_argument("--rps", type=float, default=110.0, help="simulator's /sims limit")
    options.add_argument("--max-rps", type=float, default=100.0, help="ONCE_MAX_RPS")
    return options.parse_args()


if __name__ == "__main__":
    main()
