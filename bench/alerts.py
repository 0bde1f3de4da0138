"""Alert evaluation: 20 rules over a generated fleet, a full pass and an incremental one.

    python -m bench.alerts --sims 100000 --days 180

Loads a generated fleet (devtools/generate_fleet.py) into a database kept for the next run
(`--database`, as bench.pages), replaces its alert rules with 20 rules of every kind of
condition, then times: the first full pass (which fires every alert), a second full pass (the
steady state: alerts stay), and an incremental pass for the `--chunk` SIMs of one sync chunk.
Prints the figures and exits 1 when the steady full pass or the incremental pass misses its
target.
"""

import sys
import time
from typing import Any

import sqlalchemy as sa

from bench.common import describe_machine, empty_redis, migrated_app, parser, print_table
from bench.pages import prepare_database
from webapp.alerts.evaluation import evaluate
from webapp.alerts.services import create_rule
from webapp.extensions import db

RULES: list[tuple[str, dict[str, Any], str | None]] = [
    ("warning", {"type": "data_quota_below_percent", "percent": 20}, None),
    ("critical", {"type": "data_quota_below_percent", "percent": 5}, None),
    ("warning", {"type": "data_quota_below_mb", "mb": 50}, None),
    ("info", {"type": "sms_quota_below_percent", "percent": 10}, None),
    ("info", {"type": "sms_quota_below_count", "count": 20}, None),
    ("critical", {"type": "quota_exhausted"}, None),
    ("warning", {"type": "quota_exhausted", "quota": "sms"}, None),
    ("warning", {"type": "data_exhaustion_within_days", "days": 7}, None),
    ("info", {"type": "data_exhaustion_within_days", "days": 30}, None),
    ("info", {"type": "expiry_within_days", "days": 30}, None),
    ("warning", {"type": "expiry_within_days", "days": 90, "quota": "data"}, "pump-*"),
    ("warning", {"type": "usage_anomaly"}, None),
    ("critical", {"type": "usage_anomaly", "sensitivity": "high"}, "tracker-*"),
    ("warning", {"type": "silent", "learned": True}, None),
    ("info", {"type": "silent", "hours": 24}, None),
    ("info", {"type": "status_changed"}, None),
    ("warning", {"type": "imei_changed"}, None),
    ("info", {"type": "sim_removed"}, None),
    ("warning", {"type": "sync_stale", "kind": "usage"}, None),
    ("warning", {"type": "once_error_rate", "percent": 5}, None),
]


def replace_rules() -> None:
    """Delete every rule (with its alerts) and save the benchmark's 20."""
    db.session.execute(sa.text("TRUNCATE alert_rules, alerts, alert_notifications CASCADE"))
    for number, (severity, condition, label) in enumerate(RULES, 1):
        target = {"type": "label", "value": label} if label else {"type": "all"}
        body = {"name": f"bench {number} {condition['type']}", "severity": severity,
                "condition": condition, "target": target}  # fmt: skip
        create_rule(data=body)
    db.session.commit()


def timed_pass(iccids: list[str] | None = None) -> tuple[float, str]:
    """One evaluation: its seconds and its counts."""
    started = time.perf_counter()
    counts = evaluate(iccids=iccids)
    seconds = time.perf_counter() - started
    return (
        seconds,
        f"fired {counts.fired:,}, stayed {counts.stayed:,}, resolved {counts.resolved:,}",
    )


def main() -> None:
    """Prepare the fleet and the rules, time the passes, print the figures."""
    options = parser(__doc__.splitlines()[0])
    options.add_argument("--database", default="simfleet_alerts_bench", help="kept between runs")
    options.add_argument("--fresh", action="store_true", help="drop and reload the database")
    options.add_argument("--sims", type=int, default=100_000)
    options.add_argument("--days", type=int, default=180)
    options.add_argument("--chunk", type=int, default=200, help="SIMs of the incremental pass")
    options.add_argument("--full-target", type=float, default=10.0, help="seconds")
    options.add_argument("--chunk-target", type=float, default=1.0, help="seconds")
    args = options.parse_args()
    with empty_redis(args.redis_url) as redis_url:
        url = prepare_database(
            args.database_url, redis_url, args.database, sims=args.sims, days=args.days,
            fresh=args.fresh,
        )  # fmt: skip
        app = migrated_app(url, redis_url)
        with app.app_context():
            replace_rules()
            chunk = list(
                db.session.scalars(
                    sa.text("SELECT iccid FROM sims ORDER BY hashtext(iccid) LIMIT :n"),
                    {"n": args.chunk},
                )
            )
            first, first_counts = timed_pass()
            steady, steady_counts = timed_pass()
            incremental, incremental_counts = timed_pass(chunk)
            db.engine.dispose()
    print(
        f"\nAlerts: {len(RULES)} rules, {args.sims:,} SIMs x {args.days} days"
        f" ({describe_machine()})"
    )
    print_table([
        ("first full pass (fires)", f"{first:.2f} s  ({first_counts})"),
        ("full pass (steady)", f"{steady:.2f} s  ({steady_counts})"),
        (f"incremental pass ({args.chunk} SIMs)", f"{incremental:.3f} s  ({incremental_counts})"),
    ])  # fmt: skip
    missed = []
    # The target is the pass every few minutes; the first one also writes every alert.
    if steady >= args.full_target:
        missed.append(f"full pass at or above {args.full_target:g} s")
    if incremental >= args.chunk_target:
        missed.append(f"incremental pass at or above {args.chunk_target:g} s")
    if missed:
        print(f"\nFAIL: {'; '.join(missed)}")
        sys.exit(1)
    print(
        f"\nPASS: full pass below {args.full_target:g} s, incremental below {args.chunk_target:g} s"
    )


if __name__ == "__main__":
    main()
