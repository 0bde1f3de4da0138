"""The "why offline?" rules, one by one and in their order of precedence."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from webapp.models import Sim, SimEvent
from webapp.sim_detail.diagnosis import diagnose

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def sim(**columns) -> Sim:
    defaults = {
        "iccid": "8988228066000000001",
        "status": "Enabled",
        "data_remaining_mb": Decimal("300"),
        "data_total_mb": Decimal("500"),
        "data_expires_at": NOW + timedelta(days=100),
        "data_quota_state": 0,
        "connectivity_status": "ATTACHED",
        "online": False,
        "last_seen_at": NOW - timedelta(hours=1),
    }
    return Sim(**(defaults | columns))


def event(event_type: str, hours_ago: float) -> SimEvent:
    return SimEvent(
        iccid="8988228066000000001",
        occurred_at=NOW - timedelta(hours=hours_ago),
        event_type=event_type,
    )


def verdict(s: Sim, events=()) -> str:
    return diagnose(sim=s, events=list(events), now=NOW).verdict.title


def test_an_online_sim_has_no_problem():
    result = diagnose(sim=sim(online=True, connectivity_status="ONLINE"), events=[], now=NOW)
    assert result.verdict.severity == "ok"
    assert result.verdict.title == "The SIM is online"


def test_a_disabled_sim_is_explained_by_its_status_change_event():
    events = [event("Status of SIM changed from 'Enabled' to 'Disabled'", 2)]
    result = diagnose(sim=sim(status="Disabled"), events=events, now=NOW)
    assert result.verdict.title == "The SIM is disabled"
    assert result.verdict.severity == "bad"
    assert any("to 'Disabled'" in fact for fact in result.verdict.evidence)


def test_disabled_wins_over_an_exhausted_quota():
    result = diagnose(sim=sim(status="Disabled", data_remaining_mb=Decimal(0)), events=[], now=NOW)
    titles = [f.title for f in result.findings]
    assert titles[:2] == ["The SIM is disabled", "The data quota is used up"]


@pytest.mark.parametrize(
    "columns",
    [{"data_remaining_mb": Decimal(0)}, {"data_quota_state": 2, "data_remaining_mb": None}],
)
def test_an_exhausted_quota(columns):
    assert verdict(sim(**columns)) == "The data quota is used up"


def test_an_expired_quota():
    s = sim(data_expires_at=NOW - timedelta(days=1))
    result = diagnose(sim=s, events=[event("Data Quota expired", 24)], now=NOW)
    assert result.verdict.title == "The data quota has expired"
    assert any("Data Quota expired" in fact for fact in result.verdict.evidence)


def test_a_rejected_registration_without_a_later_success():
    events = [event("Update location failed", 1), event("Update location", 5)]
    assert verdict(sim(), events) == "The network rejected the device"


def test_a_failure_followed_by_a_registration_is_not_reported():
    events = [event("Update location", 0.5), event("Update location failed", 1)]
    assert verdict(sim(), events) == "Attached to the network, but no data session"


def test_a_silent_device_points_at_the_device():
    s = sim(connectivity_status="OFFLINE", last_seen_at=NOW - timedelta(days=3))
    result = diagnose(sim=s, events=[event("Purge location", 72)], now=NOW)
    assert result.verdict.title == "The device has not been on the network for a while"
    assert any("Purge location" in fact for fact in result.verdict.evidence)


def test_attached_without_a_session_cites_the_closed_session():
    result = diagnose(sim=sim(), events=[event("Delete PDP Context", 0.5)], now=NOW)
    assert result.verdict.title == "Attached to the network, but no data session"
    assert any("Delete PDP Context" in fact for fact in result.verdict.evidence)


def test_unknown_connectivity_asks_for_a_check():
    s = sim(connectivity_status=None, last_seen_at=None, online=None)
    assert verdict(s) == "Connectivity not known yet"


def test_only_relevant_events_are_kept_newest_first():
    events = [
        event("SMS delivered", 0.1),
        event("Update location", 1),
        event("Create PDP Context", 2),
    ]
    result = diagnose(sim=sim(), events=events, now=NOW)
    assert [e.event_type for e in result.events] == ["Update location", "Create PDP Context"]


def test_a_blocked_sim_is_blocked_by_1nce():
    assert verdict(sim(connectivity_status="BLOCKED")) == "1NCE blocks the SIM on the network"


def test_a_reached_traffic_limit_stops_data():
    assert verdict(sim(data_limit_reached=True)) == "The monthly traffic limit is reached"
    assert verdict(sim(data_limit_reached=False)) != "The monthly traffic limit is reached"


@pytest.mark.parametrize(
    ("cause", "title"),
    [
        ("IMEI_LOCK_BREACHED", "1NCE refused data: the IMEI lock was breached"),
        ("QUOTA_EXHAUSTED", "1NCE refused data: the quota is used up"),
        ("MONTHLY_USAGE_LIMIT_EXCEEDED", "1NCE refused data: the monthly traffic limit is reached"),
        ("APN_NOT_AUTHORIZED", "1NCE refused data: the APN is not allowed"),
    ],
)
def test_a_v2_failure_cause_names_why_data_was_refused(cause, title):
    refused = event("Create PDP Context", 1)
    refused.details = {"id": "7", "failure_cause": cause}
    result = diagnose(sim=sim(), events=[refused], now=NOW)
    assert result.verdict.title == title
    assert cause in result.verdict.evidence[0]


def test_a_session_after_the_refusal_clears_it():
    refused = event("Create PDP Context", 3)
    refused.details = {"failure_cause": "IMEI_LOCK_BREACHED"}
    events = [event("Create PDP Context", 1), refused]
    assert not verdict(sim(), events).startswith("1NCE refused data")


def test_a_blocked_sim_is_not_also_called_unblocked_and_silent():
    silent = sim(connectivity_status="BLOCKED", last_seen_at=NOW - timedelta(days=6))
    titles = [f.title for f in diagnose(sim=silent, events=[], now=NOW).findings]
    assert titles == ["1NCE blocks the SIM on the network"]
