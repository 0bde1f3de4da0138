"""Bulk actions at fleet scale: the dry run, the resolution and a whole job on 100,000 SIMs.

    python -m bench.bulk_bench [--sims 100000] [--rps 1000]

A scratch database gets a generated fleet; the simulator takes the bulk calls (its bulk
update, like 1NCE's, queues changes for ICCIDs it does not know without complaint). With a
high --rps the figures show Simfleet's own cost per batch; at 1NCE's rate the pacer decides.
Prints figures; asserts nothing about time.
"""

import time

import sqlalchemy as sa

from bench.common import (
    app_env,
    empty_redis,
    migrated_app,
    once_settings,
    parser,
    print_table,
    scratch_database,
    simulator,
    simulator_stats,
)
from bench.generate_fleet import load_fleet
from webapp import create_app
from webapp.auth.services import create_user
from webapp.bulk.runner import run_bulk_job
from webapp.bulk.services import BulkRequest, create_bulk_job, preview_bulk
from webapp.extensions import db
from webapp.models import BulkJob, Role
from webapp.onece import get_client


def timed(action):
    """(result, seconds) of calling `action`."""
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


def main() -> None:
    """Load a fleet, preview and run a bulk label job on all of it, print the figures."""
    options = parser(__doc__.splitlines()[0])
    options.add_argument("--sims", type=int, default=100_000)
    options.add_argument("--rps", type=float, default=1000.0)
    args = options.parse_args()
    with scratch_database(args.database_url) as url, empty_redis(args.redis_url) as redis_url:
        migrated_app(url, redis_url)
        engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.begin() as connection:
            load_fleet(connection, sims=args.sims, usage_days=0)
        engine.dispose()
        with simulator(sims=10, rps=args.rps, env=app_env(url, redis_url)) as root:
            settings = once_settings(f"{root}/management-api", args.rps)
            app = create_app(
                {"APP_ENV": "development", "DATABASE_URL": url, "REDIS_URL": redis_url}
                | {"RATELIMIT_ENABLED": False, "LOG_LEVEL": "WARNING"}
                | settings
            )
            with app.app_context():
                user = create_user(email="bench@example.com", password="x" * 16, role=Role.OPERATOR)
                db.session.commit()
                request = BulkRequest("label", {"label": "bench"}, view_args={})
                preview, preview_s = timed(lambda: preview_bulk(request=request))
                disable = BulkRequest("disable", view_args={"status": "Enabled"})
                _, filtered_s = timed(lambda: preview_bulk(request=disable))
                job = create_bulk_job(request=request, user=user)
                simulator_stats(root, reset=True)
                state, run_s = timed(lambda: run_bulk_job(job_id=job.id, client=get_client()))
                stats = simulator_stats(root)
                row = db.session.get(BulkJob, job.id)
                calls = stats["by_endpoint"].get("POST /v1/sims", 0)
                db.engine.dispose()
    print(f"Bulk label job on {args.sims:,} SIMs, simulator at {args.rps:g} req/s")
    print_table(
        [
            ("preview, whole fleet", f"{preview_s * 1000:.0f} ms ({preview.selected:,} SIMs)"),
            ("preview, status=Enabled", f"{filtered_s * 1000:.0f} ms"),
            ("job (resolve + all batches)", f"{run_s:.1f} s, state {state}"),
            ("bulk calls", f"{calls:,} ({row.done:,} SIMs done, {row.failed} failed)"),
            ("time per batch, both sides", f"{run_s / max(calls, 1) * 1000:.1f} ms"),
            ("same job at ONCE_MAX_RPS=8", f"about {calls / 8:.0f} s (paced)"),
        ]
    )


if __name__ == "__main__":
    main()
