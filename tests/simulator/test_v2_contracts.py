"""v2 answers in the v2 spec's shapes, with every trap of reference §6, from v1's fleet."""

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from simulator import Fleet
from simulator.identity import luhn_valid
from tests.simulator.shapes import FORMATS, assert_matches, assert_shape, contract
from tests.simulator.v2 import UNKNOWN_ICCID, assert_v2_error, pick

READ_PATHS = (
    "",
    "/status",
    "/connectivity_info",
    "/usage",
    "/quota/data",
    "/quota/sms",
    "/events",
    "/sms",
    "/sms/1",
)


@pytest.fixture
def iccid(frozen_simulator) -> str:
    """A SIM with a label, an IMEI and some traffic (so no key is left out)."""
    fleet = frozen_simulator.fleet
    return pick(fleet, lambda i: fleet.sim(i).label and fleet.sim(i).imei and fleet.events(i))


def test_sim_list_and_single_sim(api, iccid):
    listed = api.get("/v2/sims", params={"pageSize": 100})
    single = api.get(f"/v2/sims/{iccid}").json()

    assert listed.headers["Content-Type"] == "application/json;charset=UTF-8"
    for item in listed.json():
        assert_matches(item, "v2_sim")
        assert luhn_valid(item["iccid_with_luhn"])
        assert item["iccid_with_luhn"][:-1] == item["iccid"]
    assert_matches(single, "v2_sim")
    assert api.get(f"/v1/sims/{iccid}").json().items() <= single.items()


@pytest.mark.parametrize("path", READ_PATHS)
def test_unknown_iccid_reads_are_404_not_found(api, path):
    response = api.get(f"/v2/sims/{UNKNOWN_ICCID}{path}")

    body = assert_v2_error(response, 404, "NotFound")
    assert body["message"] == "Element not found"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v2/sims"),
        ("GET", "/v2/sims/limits"),
        ("POST", "/v2/sims/limits"),
        ("GET", "/v2/sims/data/limits"),
        ("POST", "/v2/sims/extension"),
    ],
)
def test_v1_only_operations_do_not_exist_on_v2(api, method, path):
    response = api.call(method, path, json=[])

    assert_v2_error(response, 404, "NotFound")


def test_status_of_an_online_sim_has_a_pdp_contexts_array(api):
    fleet = api.simulator.fleet
    online = pick(fleet, lambda i: fleet.connectivity(i).status == "ONLINE" and fleet.sim(i).imei)

    status = api.get(f"/v2/sims/{online}/status").json()
    v1 = api.get(f"/v1/sims/{online}/status").json()

    assert_matches(status, "v2_status")
    assert status["status"] == {"description": "ONLINE"}
    (context,) = status["pdp_contexts"]
    assert context["ue_ip_address"] == v1["pdp_context"]["ue_ip_address"]
    assert FORMATS["iso_zulu"].match(context["created"])
    assert all(isinstance(context[key], str) for key in ("pdp_context_id", "sim_id", "imsi_id"))
    assert "gtp_v1_uli" not in context and "duration" not in context
    assert "last_updated_gprs" not in status["location"]
    assert status["location"]["last_updated"] == v1["location"]["last_updated"]


def test_status_without_a_session_has_an_empty_array(api, iccid):
    fleet = api.simulator.fleet
    attached = pick(fleet, lambda i: fleet.connectivity(i).status == "ATTACHED")

    status = api.get(f"/v2/sims/{attached}/status").json()

    assert_matches(status, "v2_status")
    assert status["pdp_contexts"] == []
    assert status["data_traffic_limit_state"] == {"description": "NOT_REACHED"}


def test_blocked_sims_are_blocked_on_v2_and_offline_on_v1(api):
    fleet = api.simulator.fleet
    blocked = [i for i in fleet.iccids() if fleet.connectivity(i).status == "BLOCKED"]

    assert 0 < len(blocked) <= len(fleet.iccids()) * 0.04
    for iccid in blocked:
        assert fleet.connectivity(iccid).blocked
        assert api.get(f"/v2/sims/{iccid}/status").json()["status"] == {"description": "BLOCKED"}
        assert api.get(f"/v1/sims/{iccid}/status").json()["status"] == "OFFLINE"
    for iccid in blocked:
        events = fleet.events(iccid)
        notice = [e.timestamp for e in events if e.event_type == "Endpoint blocked"]
        since = notice[0] if notice else fleet.now() - timedelta(days=7)
        assert not [e for e in events if e.timestamp > since]


def test_traffic_limit_state_follows_the_fleet(api):
    fleet = api.simulator.fleet
    limited = [i for i in fleet.iccids() if fleet.connectivity(i).traffic_limit_reached]

    assert 0 < len(limited) <= len(fleet.iccids()) * 0.05
    for iccid in limited:
        state = api.get(f"/v2/sims/{iccid}/status").json()["data_traffic_limit_state"]
        assert state == {"description": "REACHED"}
        today = fleet.now().date()
        assert fleet.usage(iccid, today, today)[0].data_volume == 0


def test_quota_status_is_not_the_sim_objects_quota_status(api, iccid):
    sim = api.get(f"/v2/sims/{iccid}").json()
    data = api.get(f"/v2/sims/{iccid}/quota/data").json()
    sms = api.get(f"/v2/sims/{iccid}/quota/sms").json()

    assert_matches(data, "v2_quota")
    assert_matches(sms, "v2_quota")
    assert sim["quota_status"]["id"] == 0
    assert data["status"] == {"id": 1, "description": "ACTIVE"}
    assert (data["service"], sms["service"]) == ("data", "sms")
    assert data["threshold_volume"] == data["total_volume"] * 20 / 100
    assert data["id"] != sms["id"]


def test_an_exhausted_quota_is_negative_on_v2_and_zero_on_v1(api):
    fleet = api.simulator.fleet
    overrun = pick(fleet, lambda i: fleet.data_quota(i).volume < 0)

    v2 = api.get(f"/v2/sims/{overrun}/quota/data").json()
    v1 = api.get(f"/v1/sims/{overrun}/quota/data").json()

    assert -0.5 < v2["volume"] < 0
    assert v2["volume"] == float(fleet.data_quota(overrun).volume)
    assert v2["status"] == {"id": 0, "description": "EXHAUSTED"}
    assert v1["volume"] == 0
    assert api.get(f"/v2/sims/{overrun}").json()["quota_status"]["id"] == 2


def test_an_expired_quota_is_expired(api):
    fleet = api.simulator.fleet
    horizon = fleet.now() + timedelta(days=61)
    iccid = pick(fleet, lambda i: fleet.data_quota(i).expiry_date < horizon)
    fleet.controls.advance_clock(61 * 86400)
    api.renew_token()

    quota = api.get(f"/v2/sims/{iccid}/quota/data").json()

    assert quota["status"] == {"id": 2, "description": "EXPIRED"}
    assert quota["volume"] == 0


def test_events_are_a_plain_array_of_nested_events(api, iccid):
    response = api.get(f"/v2/sims/{iccid}/events", params={"pageSize": 1000})

    events = response.json()
    assert_matches([without_detail(event) for event in events], "v2_events")
    assert not [name for name in response.headers if name.startswith("X-")]
    truth = api.simulator.fleet.events(iccid)
    assert [event["id"] for event in events] == [event.id for event in truth]
    assert all(isinstance(event["id"], int) for event in events)
    assert {event["event_severity"]["description"] for event in events} <= {"INFO", "WARN"}
    assert all(event["sim"]["iccid"] == iccid for event in events)


def without_detail(event: dict) -> dict:
    """The event without its `detail`, whose shape depends on the kind of event."""
    return {key: value for key, value in event.items() if key != "detail"}


def test_event_details_by_kind(api):
    fleet = api.simulator.fleet
    iccid = pick(fleet, lambda i: any(e.volume for e in fleet.events(i)))
    details = contract("v2_event_details")["example"]

    events = api.get(f"/v2/sims/{iccid}/events", params={"pageSize": 1000}).json()

    kinds = Counter()
    for event in events:
        kind = event["event_type"]["description"]
        if kind in ("Update location", "Purge location"):
            assert_shape(event["detail"], details["location"])
            kinds["location"] += 1
        elif "PDP" in kind:
            optional = frozenset({"$.data_service_failure_cause"})
            assert_shape(event["detail"], details["pdp_context"], optional=optional)
            kinds["pdp"] += 1
    assert kinds["location"] and kinds["pdp"]
    deleted = next(
        e for e in events if e["event_type"] == {"id": 4, "description": "Delete PDP Context"}
    )
    assert deleted["detail"]["volume"]["total"] > 0


def test_failed_sessions_carry_their_cause(api):
    fleet = api.simulator.fleet
    causes = {
        event.failure_cause: iccid
        for iccid in fleet.iccids()
        for event in fleet.events(iccid)
        if event.failure_cause
    }

    assert set(causes) == {"QUOTA_EXHAUSTED", "IMEI_LOCK_BREACHED", "MONTHLY_USAGE_LIMIT_EXCEEDED"}
    assert fleet.data_quota(causes["QUOTA_EXHAUSTED"]).status == 2
    assert fleet.sim(causes["IMEI_LOCK_BREACHED"]).imei_lock
    assert fleet.connectivity(causes["MONTHLY_USAGE_LIMIT_EXCEEDED"]).traffic_limit_reached
    for cause, iccid in causes.items():
        events = api.get(f"/v2/sims/{iccid}/events", params={"pageSize": 1000}).json()
        failed = [
            e for e in events if e.get("detail", {}).get("data_service_failure_cause") == cause
        ]
        assert failed and all(e["alert"] for e in failed)
        assert failed[0]["event_severity"] == {"id": 1, "description": "WARN"}


def test_a_handover_writes_two_location_updates_in_one_second(api):
    fleet = api.simulator.fleet
    iccid = pick(fleet, lambda i: handover_stamps(fleet, i))
    stamp = handover_stamps(fleet, iccid)[0]

    v2 = api.get(f"/v2/sims/{iccid}/events", params={"pageSize": 1000}).json()
    v1 = api.get(f"/v1/sims/{iccid}/events", params={"pageSize": 1000}).json()["events"]

    pair_v2 = [e for e in v2 if e["timestamp"] == f"{stamp:%Y-%m-%dT%H:%M:%S}.000Z"]
    pair_v1 = [e for e in v1 if e["timestamp"] == f"{stamp:%Y-%m-%dT%H:%M:%S}.000+0000"]
    assert [e["event_type"]["id"] for e in pair_v2] == [1, 1]
    assert pair_v2[0]["id"] != pair_v2[1]["id"]
    assert pair_v2[0]["detail"]["name"] != pair_v2[1]["detail"]["name"]
    assert len(pair_v1) == 2
    assert {e["event_type"] for e in pair_v1} == {"Update location"}
    for key in ("operator", "country", "mcc"):
        assert pair_v1[0][key] != pair_v1[1][key]


def handover_stamps(fleet, iccid: str) -> list[datetime]:
    """Seconds in which the SIM has two events of the same type."""
    seen = Counter((event.timestamp, event.event_type) for event in fleet.events(iccid))
    return [stamp for (stamp, _), count in seen.items() if count > 1]


def test_event_ids_are_stable_across_requests_fleets_and_versions(api, iccid):
    first = api.get(f"/v2/sims/{iccid}/events", params={"pageSize": 1000}).json()
    api.simulator.fleet.controls.advance_clock(60)
    again = api.get(f"/v2/sims/{iccid}/events", params={"pageSize": 1000}).json()
    rebuilt = Fleet(sims=300, seed=11, now=lambda: api.simulator.fleet.now())

    ids = [event["id"] for event in first]
    assert len(set(ids)) == len(ids)
    assert set(ids) <= {event["id"] for event in again}
    assert [event.id for event in rebuilt.events(iccid)] == [e["id"] for e in again]


def test_sms_list_items(api):
    fleet = api.simulator.fleet
    with_sms = pick(fleet, lambda i: fleet.sms(i))

    response = api.get(f"/v2/sims/{with_sms}/sms")
    listed = response.json()
    single = api.get(f"/v2/sims/{with_sms}/sms/{listed[0]['id']}").json()

    assert_matches(listed, "v2_sms")
    assert not [name for name in response.headers if name.startswith("X-")]
    assert single == listed[0]
    assert isinstance(single["id"], int) and isinstance(single["retry_count"], int)
    assert isinstance(single["msc"], int)
    assert single["sms_type"] == {"id": 2, "description": "MO"}


def test_usage_and_connectivity_info_answer_as_on_v1(api, iccid):
    params = {"start_dt": "2026-02-01", "end_dt": "2026-03-14"}

    v2 = api.get(f"/v2/sims/{iccid}/usage", params=params).json()

    assert v2 == api.get(f"/v1/sims/{iccid}/usage", params=params).json()
    assert v2["stats"][-1]["date"] == "TOTAL"
    assert len(v2["stats"]) == 43
    info = api.get(f"/v2/sims/{iccid}/connectivity_info").json()
    assert info == api.get(f"/v1/sims/{iccid}/connectivity_info").json()


def test_the_five_timestamp_formats(api):
    fleet = api.simulator.fleet
    online = pick(fleet, lambda i: fleet.connectivity(i).status == "ONLINE" and fleet.sms(i))

    sim = api.get(f"/v2/sims/{online}").json()
    sms = api.get(f"/v2/sims/{online}/sms").json()[0]
    event = api.get(f"/v2/sims/{online}/events").json()[0]
    status = api.get(f"/v2/sims/{online}/status").json()
    quota = api.get(f"/v2/sims/{online}/quota/data").json()
    sent = api.post(
        f"/v2/sims/{online}/sms",
        json={"payload": "hi", "expiry_date": "2028-03-14T16:10:29.000+00:00"},
    )

    assert FORMATS["iso_millis"].match(sim["activation_date"])
    for value in (sms["submit_date"], event["timestamp"], quota["expiry_date"]):
        assert FORMATS["iso_zulu"].match(value)
    assert FORMATS["iso_zulu"].match(status["pdp_contexts"][0]["created"])
    assert FORMATS["iso_seconds"].match(quota["created_at"])
    assert FORMATS["plain_time"].match(status["location"]["last_updated"])
    assert sent.status_code == 201


def test_a_bad_number_is_a_v2_bad_request(api, iccid):
    response = api.get(f"/v2/sims/{iccid}/sms", params={"per_page": "abc"})

    body = assert_v2_error(response, 400, "BadRequest")
    assert body["message"] == 'Cannot parse parameter per_page as Int: For Input String "abc"'


def test_dates_are_utc(api, iccid):
    event = api.get(f"/v2/sims/{iccid}/events").json()[0]

    moment = datetime.strptime(event["timestamp"], "%Y-%m-%dT%H:%M:%S.000Z").replace(tzinfo=UTC)
    assert moment == api.simulator.fleet.events(iccid)[0].timestamp.replace(microsecond=0)
