"""Bulk actions at fleet scale: the dry run, the resolution and a whole job on 100,000 SIMs.

    python -m bench.bulk_bench [--sims 100000] [--rps 1000] [--api-version v2]

The simulator serves a fleet of --sims SIMs and an inventory sync copies it into a scratch
database; then a label job runs on all of it. On 1NCE's API v1 a batch of 100 SIMs is one
bulk call; v2 has none, so there every SIM is one PUT and one committed outcome. With a high
--rps the figures show Simfleet's own cost per call; at 1NCE's rate the pacer decides.
Prints figures; asserts nothing about time.
"""

import time

from bench.common import (
    app_env,
    empty_redis,
    migrated_app,
    once_settings,
    parser,
    print_table,
    reset_simulator_stats,
    scratch_database,
    simulator,
    simulator_stats,
)
from webapp import create_app
from webapp.admin.services import create_user
from webapp.bulk.runner import run_bulk_job
from webapp.bulk.services import BulkRequest, create_bulk_job, preview_bulk
from webapp.extensions import db, get_client
from webapp.models import BulkJob, Role
from webapp.sync.services import run_now

# The call that carries the changes: a bulk call of up to 100 SIMs on v1, a PUT per SIM on v2.
CHANGE_CALLS = {"v1": "POST /v1/sims", "v2": "PUT /v2/sims/<iccid>"}


def timed(action):
    """Run `action`; return its result and the seconds it took."""
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


def main() -> None:
    """Sync a simulated fleet, preview and run a bulk label job on all of it, print figures."""
    options = parser(__doc__.splitlines()[0])
    options.add_argument("--sims", type=int, default=100_000)
    options.add_argument("--rps", type=float, default=1000.0)
    options.add_argument("--api-version", choices=sorted(CHANGE_CALLS), default="v2")
    args = options.parse_args()
    with scratch_database(args.database_url) as url, empty_redis(args.redis_url) as redis_url:
        migrated_app(url, redis_url)
        with simulator(sims=args.sims, rps=args.rps, env=app_env(url, redis_url)) as root:
            app = create_app(
                {"APP_ENV": "development", "DATABASE_URL": url, "REDIS_URL": redis_url}
                | {"RATELIMIT_ENABLED": False, "LOG_LEVEL": "WARNING"}
                | once_settings(root, args.rps)
                | {"ONCE_API_VERSION": args.api_version}
            )
            with app.app_context():
                run_now(kind="inventory", client=get_client())
                user = create_user(
                    email="bench@example.com",
                    password="bench operator passphrase",
                    role=Role.OPERATOR,
                )
                db.session.commit()
                request = BulkRequest("label", {"label": "bench"}, view_args={})
                preview, preview_s = timed(lambda: preview_bulk(request=request))
                disable = BulkRequest("disable", view_args={"status": "Enabled"})
                _, filtered_s = timed(lambda: preview_bulk(request=disable))
                job = create_bulk_job(request=request, user=user)
                reset_simulator_stats(root)
                state, run_s = timed(lambda: run_bulk_job(job_id=job.id, client=get_client()))
                calls = simulator_stats(root)["by_endpoint"].get(CHANGE_CALLS[args.api_version], 0)
                row = db.session.get_one(BulkJob, job.id)
                db.engine.dispose()
    print(
        f"Bulk label job on {args.sims:,} SIMs, API {args.api_version},"
        f" simulator at {args.rps:g} req/s"
    )
    print_table(
        [
            ("preview, whole fleet", f"{preview_s * 1000:.0f} ms ({preview.selected:,} SIMs)"),
            ("preview, status=Enabled", f"{filtered_s * 1000:.0f} ms"),
            ("job (resolve + all calls)", f"{run_s:.1f} s, state {state}"),
            ("calls to 1NCE", f"{calls:,} ({row.done:,} SIMs done, {row.failed} failed)"),
            ("time per call, both sides", f"{run_s / max(calls, 1) * 1000:.1f} ms"),
            ("same job at ONCE_MAX_RPS=8", f"about {calls / 8 / 60:.0f} min (paced)"),
        ]
    )


if __name__ == "__main__":
    main()
