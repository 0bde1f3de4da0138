"""Every endpoint answers in the recorded wire format (contracts under contracts/)."""

import pytest

from tests.simulator.conftest import request_token
from tests.simulator.shapes import FORMATS, assert_matches, assert_shape, contract


@pytest.fixture
def iccid(frozen_simulator) -> str:
    """A SIM with a label, an IMEI and some traffic (so no key is left out)."""
    fleet = frozen_simulator.fleet
    return next(
        iccid
        for iccid in fleet.iccids()
        if fleet.sim(iccid).label and fleet.sim(iccid).imei and fleet.events(iccid)
    )


def test_token_has_the_recorded_fields(frozen_simulator):
    response = request_token(frozen_simulator)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json;charset=UTF-8"
    assert_matches(response.json(), "token")
    assert response.json()["expires_in"] == 3600
    assert response.json()["token_type"] == "bearer"


def test_sim_list_items_and_single_sim(api, iccid):
    listed = api.get("/v1/sims", params={"pageSize": 100})
    single = api.get(f"/v1/sims/{iccid}")

    assert listed.status_code == 200
    assert listed.headers["Content-Type"] == "application/json;charset=UTF-8"
    for item in listed.json():
        assert_matches(item, "sim")
    assert_matches(single.json(), "sim")
    assert single.json()["label"] == api.simulator.fleet.sim(iccid).label


def test_unset_label_and_imei_are_left_out(api):
    fleet = api.simulator.fleet
    unlabelled = next(i for i in fleet.iccids() if fleet.sim(i).label is None)
    without_imei = next(i for i in fleet.iccids() if fleet.sim(i).imei is None)

    assert "label" not in api.get(f"/v1/sims/{unlabelled}").json()
    assert "imei" not in api.get(f"/v1/sims/{without_imei}").json()


@pytest.mark.parametrize(
    "path",
    ["", "/status", "/connectivity_info", "/usage", "/quota/data", "/quota/sms", "/events"],
)
def test_unknown_iccid_reads_answer_200_with_an_empty_body(api, path):
    response = api.get(f"/v1/sims/8988228066600000000{path}")

    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["Content-Length"] == "0"


def test_unknown_iccid_can_answer_404_as_specified(make_simulator, connect):
    api = connect(make_simulator(sims=10, unknown_iccid="404"))

    assert api.get("/v1/sims/8988228066600000000").status_code == 404


def test_quotas(api, iccid):
    data = api.get(f"/v1/sims/{iccid}/quota/data").json()
    sms = api.get(f"/v1/sims/{iccid}/quota/sms").json()

    assert_matches(data, "quota_data")
    assert_matches(sms, "quota_sms")
    assert data["total_volume"] == 500
    assert data["threshold_percentage"] == 20


def test_usage_defaults_to_14_days_newest_first_with_total(api, iccid):
    stats = api.get(f"/v1/sims/{iccid}/usage").json()["stats"]

    day_row, total_row = contract("usage")["example"]["stats"]
    for row in stats[:-1]:
        assert_shape(row, day_row)
    assert_shape(stats[-1], total_row)
    assert len(stats) == 15
    assert stats[-1]["date"] == "TOTAL"
    days = [row["date"] for row in stats[:-1]]
    assert days == sorted(days, reverse=True)
    assert days[0] == "2026-03-14"


def test_usage_total_sums_the_rows(api, iccid):
    stats = api.get(
        f"/v1/sims/{iccid}/usage", params={"start_dt": "2026-02-01", "end_dt": "2026-03-14"}
    ).json()["stats"]

    rows, total = stats[:-1], stats[-1]
    assert len(rows) == 42
    assert float(total["data"]["volume"]) == pytest.approx(
        sum(float(row["data"]["volume"]) for row in rows)
    )
    assert int(total["sms"]["volume"]) == sum(int(row["sms"]["volume"]) for row in rows)
    for row in stats:
        for part in ("data", "sms"):
            assert all(FORMATS["decimal"].match(value) for value in row[part].values())


def test_usage_with_nonsense_dates_has_only_the_total_row(api, iccid):
    response = api.get(f"/v1/sims/{iccid}/usage", params={"start_dt": "yesterday"})

    assert response.status_code == 200
    assert [row["date"] for row in response.json()["stats"]] == ["TOTAL"]


def test_status_and_connectivity_info(api, iccid):
    status = api.get(f"/v1/sims/{iccid}/status").json()
    info = api.get(f"/v1/sims/{iccid}/connectivity_info").json()

    assert_matches(status, "status")
    assert status["status"] in ("ONLINE", "ATTACHED", "OFFLINE")
    if status["status"] != "OFFLINE":
        assert_matches(info, "connectivity_info")


def test_online_status_carries_the_pdp_context(api):
    fleet = api.simulator.fleet
    online = next(i for i in fleet.iccids() if fleet.connectivity(i).status == "ONLINE")

    status = api.get(f"/v1/sims/{online}/status").json()

    assert status["pdp_context"]["ue_ip_address"] == fleet.sim(online).ip_address
    assert FORMATS["plain_time"].match(status["pdp_context"]["created"])


def test_events(api, iccid):
    body = api.get(f"/v1/sims/{iccid}/events").json()

    assert_matches(body, "events")
    assert body["totalEvents"] == len(api.simulator.fleet.events(iccid))


def test_sms_list_and_single_sms(api):
    fleet = api.simulator.fleet
    with_sms = next(i for i in fleet.iccids() if fleet.sms(i))

    listed = api.get(f"/v1/sims/{with_sms}/sms").json()
    single = api.get(f"/v1/sims/{with_sms}/sms/{listed[0]['id']}").json()

    assert_matches(listed, "sms")
    assert single == listed[0]
    assert single["sms_type"] == {"id": 2, "description": "MO"}


def test_orders_products_and_limits(api):
    orders = api.get("/v1/orders").json()
    order = api.get(f"/v1/orders/{orders[0]['order_number']}").json()

    for item in orders:
        assert_matches(item, "order")
    assert order == orders[0]
    assert sum(len(order["sims"]) for order in orders) == 300
    for product in api.get("/v1/products").json():
        assert_matches(product, "product")
    assert_matches(api.get("/v1/sims/limits").json(), "limits")
    assert all(item["unit"] == "MB" for item in api.get("/v1/sims/data/limits").json())
