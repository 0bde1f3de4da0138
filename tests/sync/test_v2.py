"""What the move to 1NCE's API v2 changed in the sync: event identity, the assumed usage
shape failing loudly, and the v1/v2 compare command."""

from collections import Counter

import pytest
import sqlalchemy as sa
from prometheus_client import REGISTRY

from webapp.extensions import db
from webapp.models import Sim, SimEvent, UsageDay
from webapp.sync.compare import _by_design
from webapp.sync.services import run_now


def same_second_events(fleet) -> dict[str, int]:
    """Per SIM, how many of its events share their second and type with another one."""
    found = {}
    for iccid in fleet.iccids():
        counts = Counter((e.timestamp, e.event_type) for e in fleet.events(iccid))
        twins = sum(n for n in counts.values() if n > 1)
        if twins:
            found[iccid] = twins
    return found


def stored_twins(iccid: str) -> int:
    counts = db.session.execute(
        sa.select(sa.func.count())
        .where(SimEvent.iccid == iccid)
        .group_by(SimEvent.occurred_at, SimEvent.event_type)
        .having(sa.func.count() > 1)
    ).scalars()
    return sum(counts)


@pytest.mark.parametrize("api_version", ["v2", "v1"])
def test_two_events_of_one_type_in_one_second_are_both_kept(app, once, fleet_simulator):
    twins = same_second_events(fleet_simulator.fleet)
    assert twins, "the simulated fleet has handovers: two location updates in one second"
    run_now(kind="inventory", client=once)
    first = run_now(kind="events", client=once)
    assert first.outcome == "success"
    assert {iccid: stored_twins(iccid) for iccid in twins} == twins
    again = run_now(kind="events", client=once)
    assert (again.outcome, again.rows) == ("success", 0)


def unexpected_shapes() -> float:
    return (
        REGISTRY.get_sample_value(
            "simfleet_once_unexpected_shapes_total", {"endpoint": "GET /v2/sims/{iccid}/usage"}
        )
        or 0.0
    )


def test_usage_of_an_unexpected_shape_fails_loudly_and_stores_nothing(
    app, once, fleet_simulator, client, login
):
    run_now(kind="inventory", client=once)
    fleet_simulator.set_faults(v2_usage_shape="unexpected")
    before = unexpected_shapes()
    usage = run_now(kind="usage", client=once)
    assert (usage.outcome, usage.errors, usage.sims_done) == ("partial", 60, 0)
    assert "usage_days" in usage.error_message and "total" in usage.error_message
    assert unexpected_shapes() - before == 60
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UsageDay)) == 0
    assert run_now(kind="quotas", client=once).outcome == "success"
    login("operator")
    page = client.get("/sync").text
    assert "usage_days" in page


def test_usage_as_a_plain_array_is_read_like_the_stats_envelope(app, once, fleet_simulator):
    run_now(kind="inventory", client=once)
    run_now(kind="usage", client=once)
    enveloped = set(
        db.session.execute(sa.select(UsageDay.iccid, UsageDay.day, UsageDay.data_rx_mb))
    )
    db.session.execute(sa.delete(UsageDay))
    db.session.execute(sa.text("UPDATE sims SET usage_synced_through = NULL"))
    db.session.commit()
    fleet_simulator.set_faults(v2_usage_shape="array")
    assert run_now(kind="usage", client=once).outcome == "success"
    plain = set(db.session.execute(sa.select(UsageDay.iccid, UsageDay.day, UsageDay.data_rx_mb)))
    assert plain == enveloped and plain


def compare(app, *args: str):
    return app.test_cli_runner().invoke(args=["once", "compare", *args])


def test_compare_finds_a_planted_difference(app, fleet_simulator):
    fleet_simulator.retire_v1(False)
    clean = compare(app, "--sims", "60")
    assert clean.exit_code == 0, clean.output
    assert "compared 60 SIMs: 0 real difference(s)" in clean.output
    blocked = [
        i for i in fleet_simulator.fleet.iccids() if fleet_simulator.fleet.connectivity(i).blocked
    ]
    assert all(
        f"{i} connectivity.status: v1=OFFLINE v2=BLOCKED [by design]" in clean.output
        for i in blocked
    )

    planted = fleet_simulator.fleet.iccids()[3]
    fleet_simulator.set_faults(diverged_iccids=[planted])
    found = compare(app, "--sims", "10")
    assert found.exit_code == 1, found.output
    assert f"{planted} sim.label:" in found.output and "DIFFERS" in found.output
    assert "1 real difference(s) in sim.label (1)" in found.output


def test_compare_says_when_v1_no_longer_answers(app, fleet_simulator):
    result = compare(app, "--sims", "2")
    assert result.exit_code == 2
    assert "cannot compare" in result.output and "410" in result.output


@pytest.mark.parametrize("api_version", ["v1"])
def test_the_sync_page_counts_down_to_v1s_retirement(client, login, app):
    login("operator")
    page = client.get("/sync").text
    assert "1NCE retires on 2026-12-31" in page
    assert "ONCE_API_VERSION=v2" in page


def test_a_404_alone_never_removes_a_sim(app, once, fleet_simulator):
    run_now(kind="inventory", client=once)
    gone = fleet_simulator.fleet.iccids()[7]
    fleet_simulator.fleet.controls.remove_sim(gone)
    quotas = run_now(kind="quotas", client=once)
    assert (quotas.outcome, quotas.errors) == ("partial", 1)
    assert db.session.get(Sim, gone).removed_at is None
    run_now(kind="inventory", client=once)
    db.session.expire_all()
    assert db.session.get(Sim, gone).removed_at is not None


def test_v2s_generic_event_types_are_differences_by_design():
    field = "events.types[2026-12-04T05:58:43+00:00]"
    v1 = ["Quota threshold reached", "Update location"]
    assert _by_design(field, v1, ["Quota and limit notification", "Update location"])
    assert not _by_design(field, ["Update location"], ["Purge location"])
    assert not _by_design(field, ["Update location"], ["Update location", "SIM status changed"])
