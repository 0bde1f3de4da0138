"""Fixtures of the inventory tests: a small, varied fleet with NULLs in every sortable column."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from webapp.extensions import db

NOW = datetime.now(UTC)


@pytest.fixture
def varied_fleet(make_sim):
    """Twelve SIMs whose values differ, tie and are missing in every sortable column."""
    sims = []
    for n in range(12):
        gap = n % 4 == 3  # every fourth SIM lacks the optional values
        sims.append(
            make_sim(
                iccid=f"89882280660000{n:05d}",
                imei=None if gap else f"35000000000{n:04d}",
                ip_address=None if gap else f"10.0.{n}.{n + 1}",
                label=None if gap else f"pump {n % 3}",
                online=None if gap else n % 2 == 0,
                operator=None if gap else ("Telekom", "Orange")[n % 2],
                country=None if gap else ("Germany", "Spain", "France")[n % 3],
                data_quota_state=None if gap else (0, 1, 2)[n % 3],
                data_remaining_mb=None if gap else Decimal(100 - 10 * (n % 5)),
                data_total_mb=None if gap else Decimal(500),
                avg_daily_mb_7d=None if gap else Decimal(n % 4) / 2,
                avg_daily_mb_30d=None if gap else Decimal(n % 3),
                data_exhausted_on=None if gap else date(2027, 1, 1) + timedelta(days=n % 6),
                data_expires_at=None if n % 6 else datetime(2026, 12, 1, tzinfo=UTC),
                last_seen_at=None if gap else NOW - timedelta(hours=n * 7),
                usage_synced_at=None if gap else NOW - timedelta(minutes=n % 5),
            )
        )
        # make_sim always makes an enabled SIM.
        sims[-1].status = "Enabled" if n % 5 else "Disabled"
    db.session.commit()
    return sims
