"""Paging: the four X-* headers, page size limits, past-the-end pages, 100,000 SIMs."""

import pytest


def test_paging_headers_and_defaults(api):
    response = api.get("/v1/sims")

    assert len(response.json()) == 10
    assert response.headers["X-Count-Per-Page"] == "10"
    assert response.headers["X-Current-Page"] == "1"
    assert response.headers["X-Total-Count"] == "300"
    assert response.headers["X-Total-Pages"] == "30"


def test_pages_cover_the_fleet_once_in_order(api):
    iccids = []
    for page in range(1, 5):
        response = api.get("/v1/sims", params={"page": page, "pageSize": 100})
        assert response.headers["X-Total-Pages"] == "3"
        iccids += [sim["iccid"] for sim in response.json()]

    assert iccids == api.simulator.fleet.iccids()


def test_a_page_past_the_end_is_an_empty_array(api):
    response = api.get("/v1/sims", params={"page": 31})

    assert response.status_code == 200
    assert response.json() == []
    assert response.headers["X-Current-Page"] == "31"


@pytest.mark.parametrize(
    ("path", "largest"),
    [("/v1/sims", 100), ("/v1/orders", 10), ("/v1/sims/{iccid}/events", 1000)],
)
def test_page_size_limits(api, path, largest):
    path = path.format(iccid=api.simulator.fleet.iccids()[0])

    assert api.get(path, params={"pageSize": largest}).status_code == 200
    too_big = api.get(path, params={"pageSize": largest + 1})
    assert too_big.status_code == 400
    assert too_big.json()["status"] == 400
    assert api.get(path, params={"pageSize": 0}).status_code == 400


def test_non_numeric_paging_is_a_spring_400(api):
    response = api.get("/v1/sims", params={"page": "abc"})

    assert response.status_code == 400
    assert "NumberFormatException" in response.json()["message"]
    assert response.json()["path"] == "/internal-global-api/v1/sims"


def test_events_are_paged_newest_first(api):
    fleet = api.simulator.fleet
    iccid = max(fleet.iccids()[:40], key=lambda iccid: len(fleet.events(iccid)))
    total = len(fleet.events(iccid))

    first = api.get(f"/v1/sims/{iccid}/events", params={"pageSize": 2})
    second = api.get(f"/v1/sims/{iccid}/events", params={"pageSize": 2, "page": 2})

    body = first.json()
    assert body["totalEvents"] == total
    assert body["totalPages"] == (total + 1) // 2
    assert first.headers["X-Total-Count"] == str(total)
    stamps = [event["timestamp"] for event in body["events"] + second.json()["events"]]
    assert stamps == sorted(stamps, reverse=True)


def test_filter_and_sort_on_imei_and_ip_address(api):
    fleet = api.simulator.fleet
    target = next(fleet.sim(iccid) for iccid in fleet.iccids()[5:] if fleet.sim(iccid).imei)

    by_imei = api.get("/v1/sims", params={"q": f"imei:{target.imei}"}).json()
    by_ip = api.get("/v1/sims", params={"q": f"ip_address:{target.ip_address}"}).json()
    sorted_page = api.get("/v1/sims", params={"sort": "-ip_address", "pageSize": 3}).json()

    assert [sim["iccid"] for sim in by_imei] == [target.iccid]
    assert [sim["iccid"] for sim in by_ip] == [target.iccid]
    assert [sim["iccid"] for sim in sorted_page] == fleet.iccids()[-1:-4:-1]
    assert api.get("/v1/sims", params={"q": "label:x"}).status_code == 400


def test_a_100k_fleet_starts_and_serves_its_last_page(make_simulator, connect):
    api = connect(make_simulator(sims=100_000, seed=3))

    response = api.get("/v1/sims", params={"page": 1000, "pageSize": 100})

    assert response.headers["X-Total-Count"] == "100000"
    assert response.headers["X-Total-Pages"] == "1000"
    assert len(response.json()) == 100
    assert response.json()[-1]["iccid"] == api.simulator.fleet.iccids()[-1]
