"""The plan puts the most valuable SIMs first and stays within the call budget."""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import ProviderAccount, Sim
from webapp.sync.planner import plan_sims, sim_budget

NOW = datetime.now(UTC)


def add_sims(**kinds) -> int:
    account = ProviderAccount(name="1NCE", api_url="http://x", client_id="c")
    db.session.add(account)
    db.session.flush()
    for iccid, fields in kinds.items():
        db.session.add(Sim(iccid=iccid, account_id=account.id, **{"status": "Enabled", **fields}))
    db.session.commit()
    return account.id


def test_plan_order(app):
    synced = NOW - timedelta(hours=1)
    account_id = add_sims(
        s1_stale=dict(usage_synced_at=NOW - timedelta(days=2)),
        s2_fresh=dict(usage_synced_at=synced),
        s3_online=dict(usage_synced_at=synced, online=True),
        s4_low=dict(usage_synced_at=synced, data_quota_state=1),
        s5_changed=dict(usage_synced_at=synced, changed_at=NOW),
        s6_new=dict(),
        s7_disabled=dict(usage_synced_at=NOW - timedelta(days=9), status="Disabled"),
        s8_removed=dict(removed_at=NOW),
    )
    plan = plan_sims(kind="usage", account_id=account_id, limit=100)
    assert plan == [
        "s6_new", "s5_changed", "s4_low", "s3_online", "s1_stale", "s2_fresh", "s7_disabled"
    ]  # fmt: skip
    assert plan_sims(kind="usage", account_id=account_id, limit=2) == ["s6_new", "s5_changed"]


def test_budget_follows_the_rate_and_the_interval(app):
    app.config.update(ONCE_MAX_RPS=8.0, SYNC_USAGE_MINUTES=30, SYNC_QUOTAS_MINUTES=60)
    assert sim_budget("usage") == int(8 * 1800 * 0.35)
    assert sim_budget("quotas") == int(8 * 3600 * 0.3 / 2)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Sim)) == 0
