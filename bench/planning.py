"""Planning: a full usage refresh of N SIMs against the rate limit's lower bound.

    python -m bench.planning --sims 2000 --rps 10 --max-rps 8 --workers 2

Serves the 1NCE simulator over HTTP with a /sims limit of --rps per second, starts --workers
`python -m worker` processes (they share the Redis pacer at ONCE_MAX_RPS = --max-rps), then
runs the real jobs: `sync_start("inventory")`, and once it has ended `sync_start("usage")`,
which plans every SIM (the budget exceeds N) and fans out into chunk jobs. Elapsed runs from
enqueueing the usage job to the end of its run. Passes when elapsed is at most 1.1 x
calls / ONCE_MAX_RPS and the simulator answered no 429.
"""

import sys

from bench.common import (
    app_env,
    describe_machine,
    empty_redis,
    migrated_app,
    once_settings,
    parser,
    print_table,
    reset_simulator_stats,
    rq_workers,
    run_sync_job,
    scratch_database,
    simulator,
    simulator_stats,
)
from webapp.extensions import db, get_redis
from webapp.models import SyncRun
from webapp.one_nce.pacing import RedisPacer

TARGET_RATIO = 1.1


def figures(run: SyncRun, elapsed: float, max_rps: float, stats: dict) -> list[tuple]:
    """The lines to print: what the run did, elapsed against the bound, what 1NCE saw."""
    bound = run.calls / max_rps
    # The pacer spaces calls (1 s + a jitter allowance) / rate apart: its own floor.
    pacer = RedisPacer(get_redis(), key="simfleet:bench:pace", rate=max_rps, group="bench")
    return [
        ("usage run", f"{run.outcome}: {run.sims_done:,} SIMs, {run.rows:,} rows, "
                      f"{run.chunks_done} chunks, {run.errors} errors"),
        ("calls to 1NCE (run counter)", f"{run.calls:,}"),
        (f"lower bound: calls / {max_rps:g} rps", f"{bound:.1f} s"),
        ("elapsed, enqueue to end of run", f"{elapsed:.1f} s"),
        ("ratio elapsed / lower bound", f"{elapsed / bound:.3f}  (target <= {TARGET_RATIO}; "
                                        f"the pacer's floor {pacer.interval * max_rps:.2f})"),
        ("simulator: requests (incl. tokens)", f"{stats['requests']:,}"),
        ("simulator: peak /sims per second", f"{stats['peak_rps']}"),
        ("simulator: 429 answers", f"{stats['status_429']}  (target 0)"),
    ]  # fmt: skip


def main() -> None:
    """Run the planning benchmark on a scratch database; exit 1 when a target is missed."""
    args = _arguments()
    with (
        scratch_database(args.database_url) as url,
        empty_redis(args.redis_url) as redis_url,
        simulator(sims=args.sims, rps=args.rps, env=app_env(url, redis_url)) as root,
    ):
        settings = once_settings(root, args.max_rps)
        app = migrated_app(url, redis_url, **settings)
        with app.app_context(), rq_workers(args.workers, app_env(url, redis_url, **settings)):
            try:
                inventory, _ = run_sync_job("inventory", timeout=600)
                reset_simulator_stats(root)
                before = describe_machine()
                usage, enqueued = run_sync_job("usage", timeout=args.sims / args.max_rps * 3 + 120)
                assert usage.finished_at is not None, "run_sync_job waits for the run's end"
                elapsed = (usage.finished_at - enqueued).total_seconds()
                stats = simulator_stats(root)
                rows = figures(usage, elapsed, args.max_rps, stats)
            finally:
                db.session.remove()
                db.engine.dispose()
    print(f"planning: full usage refresh of {args.sims:,} SIMs by {args.workers} RQ workers")
    print(f"  simulator limit {args.rps:g} /sims calls per s; ONCE_MAX_RPS {args.max_rps:g}")
    print(f"  inventory first: {inventory.outcome}, {inventory.calls} calls")
    print(f"  machine before: {before}; after: {describe_machine()}")
    print_table(rows)
    ratio = elapsed / (usage.calls / args.max_rps)
    complete = usage.outcome == "success" and usage.sims_done == args.sims
    if not complete or ratio > TARGET_RATIO or stats["status_429"]:
        print("FAIL: not every SIM refreshed, above the target ratio, or throttled by 1NCE")
        sys.exit(1)
    print(f"PASS: {ratio:.3f} x the lower bound, no 429")


def _arguments():
    options = parser(__doc__.splitlines()[0])
    options.add_argument("--sims", type=int, default=2_000)
    options.add_argument("--rps", type=float, default=10.0, help="simulator's /sims limit")
    options.add_argument("--max-rps", type=float, default=8.0, help="ONCE_MAX_RPS of the client")
    options.add_argument("--workers", type=int, default=2, help="RQ worker processes")
    return options.parse_args()


if __name__ == "__main__":
    main()
