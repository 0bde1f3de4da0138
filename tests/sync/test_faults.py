"""The sync under 1NCE's failures: malformed records, outages, throttling, expired tokens."""

import logging

import sqlalchemy as sa

from tests.sync.test_workers import forget_usage
from webapp.extensions import db
from webapp.models import Sim, UsageDay
from webapp.models.sync import SYNC_KINDS
from webapp.one_nce import OneNceClient, RetryPolicy
from webapp.sync.services import run_now


def usage_rows() -> set:
    return set(db.session.execute(sa.select(UsageDay.iccid, UsageDay.day, UsageDay.data_rx_mb)))


def test_malformed_records_are_logged_and_skipped(app, once, fleet_simulator, caplog):
    bad = fleet_simulator.fleet.iccids()[5]
    fleet_simulator.set_faults(garbled_iccids=[bad])
    with caplog.at_level(logging.WARNING, logger="simfleet.sync"):
        inventory = run_now(kind="inventory", client=once)
    assert inventory.outcome == "partial"
    assert inventory.errors == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Sim)) == 59
    assert "skipped malformed SIM record" in caplog.text

    fleet_simulator.clear_faults()
    run_now(kind="inventory", client=once)
    fleet_simulator.set_faults(garbled_iccids=[bad])
    with caplog.at_level(logging.WARNING, logger="simfleet.sync"):
        usage = run_now(kind="usage", client=once)
    assert (usage.outcome, usage.errors, usage.sims_done) == ("partial", 1, 59)
    assert f"iccid={bad}" in caplog.text
    assert not db.session.scalar(sa.select(UsageDay.day).where(UsageDay.iccid == bad))


def test_outages_and_throttling_are_retried(app, once, fleet_simulator):
    run_now(kind="inventory", client=once)
    run_now(kind="usage", client=once)
    expected = usage_rows()
    forget_usage()
    fleet_simulator.set_faults(html_503_rate=0.15, empty_500_rate=0.1)
    run = run_now(kind="usage", client=once)
    assert run.outcome == "success"
    assert usage_rows() == expected
    assert fleet_simulator.stats()["by_status"].get("503", 0) > 0


def test_expired_tokens_are_renewed(app, once, fleet_simulator):
    run_now(kind="inventory", client=once)
    fleet_simulator.set_faults(invalidate_tokens=True)
    for kind in SYNC_KINDS[1:]:
        assert run_now(kind=kind, client=once).outcome == "success"
    assert fleet_simulator.stats()["token_requests"] == 2


def test_throttling_by_1nce_slows_the_sync_down(app, make_simulator, redis):
    """A client allowed more than 1NCE accepts gets 429s, backs off, and still syncs it all."""
    strict = make_simulator(sims=60, seed=11, write_delay=0.1, rps=10)
    client = OneNceClient(
        base_url=strict.url,
        client_id=strict.client_id,
        client_secret=strict.client_secret,
        redis=redis,
        max_rps=40,
        retry=RetryPolicy(retries=6, backoff=0.05, backoff_max=1.0),
    )
    app.config.update(ONCE_API_URL=strict.url)
    run_now(kind="inventory", client=client)
    run = run_now(kind="usage", client=client)
    assert (run.outcome, run.sims_done) == ("success", 60)
    assert strict.stats()["status_429"] > 0
