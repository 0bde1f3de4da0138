"""EXPLAIN ANALYZE every filter and sort of the SIM inventory page on a loaded database.

    python -m devtools.generate_fleet --database-url URL --sims 100000
    python -m bench.inventory_plans --database-url URL

For each filter set and each sort in both directions, runs the page's queries for the
first page and for a page deep in the order (via a cursor), and the capped count, and prints
the slowest statement's execution time and its plan's top nodes. Nothing is asserted.
"""

import argparse
import re
from collections.abc import Callable
from functools import partial

import sqlalchemy as sa

from webapp import create_app
from webapp.extensions import db
from webapp.inventory.services import SORT_KEYS, SimOrder, count_sims, list_inventory
from webapp.sim_queries import SimFilters

FILTERS: tuple[dict[str, str], ...] = (
    {},
    {"q": "8988"},
    {"q": "meter-42"},
    {"q": "10.1.2"},
    {"q": "x"},
    {"status": "Disabled"},
    {"quota_state": "low"},
    {"quota_state": "exhausted"},
    {"online": "false"},
    {"country": "Spain"},
    {"operator": "Orange"},
    {"has_label": "false"},
    {"unseen": "2d"},
    {"status": "Enabled", "quota_state": "low", "online": "true", "country": "Germany"},
    {"q": "south", "quota_state": "exhausted", "operator": "O2"},
)


def explain(statements: list[tuple[str, dict]]) -> tuple[float, str]:
    """The slowest of `statements` under EXPLAIN ANALYZE: milliseconds and the plan's top."""
    worst = (0.0, "")
    for statement, params in statements:
        connection = db.session.connection()
        lines = list(
            connection.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", params).scalars()
        )
        timing = re.search(r"Execution Time: ([\d.]+)", lines[-1])
        assert timing is not None, lines[-1]
        ms = float(timing.group(1))
        if ms >= worst[0]:
            nodes = [line.strip() for line in lines if "->" in line or line is lines[0]]
            worst = (ms, " | ".join(n.split("  (")[0] for n in nodes[:4]))
    return worst


def recorded(action: Callable[[], object]) -> list[tuple[str, dict]]:
    """The SQL statements (with their parameters) that `action` runs."""
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            statements.append((statement, parameters))

    engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        action()
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    return statements


def main() -> None:
    """Print one line per filter x sort x direction x page."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="a loaded Simfleet database")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12")
    args = parser.parse_args()
    settings = {"DATABASE_URL": args.database_url, "REDIS_URL": args.redis_url}
    app = create_app({**settings, "APP_ENV": "development", "SECRET_KEY": "bench-" + "x" * 32})
    worst = (0.0, "")
    with app.app_context():
        for raw in FILTERS:
            filters = SimFilters.from_args(raw)
            # As the page decides: a narrowed set that could be counted is read whole.
            small = filters.narrowed and count_sims(filters=filters) is not None
            ms, plan = explain(recorded(partial(count_sims, filters=filters)))
            print(f"{ms:8.1f} ms  count {raw}  {plan}")
            for sort in SORT_KEYS:
                for direction in ("asc", "desc"):
                    order = SimOrder(sort=sort, descending=direction == "desc")
                    deep = list_inventory(
                        filters=filters, order=order, limit=2000, small=small
                    ).next_cursor
                    for page, cursor in (("first", None), ("deep", deep)):
                        if page == "deep" and cursor is None:
                            continue
                        statements = recorded(
                            partial(
                                list_inventory,
                                filters=filters,
                                order=order,
                                cursor=cursor,
                                small=small,
                            )
                        )
                        ms, plan = explain(statements)
                        worst = max(worst, (ms, f"{raw} {sort} {direction} {page}: {plan}"))
                        print(f"{ms:8.1f} ms  {sort} {direction} {page} {raw}  {plan}")
        print(f"slowest page: {worst[0]:.1f} ms  {worst[1]}")
        db.session.remove()


if __name__ == "__main__":
    main()
