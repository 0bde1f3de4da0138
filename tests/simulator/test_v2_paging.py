"""v2 paging: X-* headers on the SIM list only, `per_page` on SMS, one rate limit for both."""

import pytest

from tests.simulator.v2 import assert_v2_error, pick


def test_sim_list_pages_like_v1_with_the_four_headers(api):
    response = api.get("/v2/sims")

    assert len(response.json()) == 10
    assert response.headers["X-Total-Count"] == "300"
    assert response.headers["X-Total-Pages"] == "30"
    pages = [api.get("/v2/sims", params={"page": n, "pageSize": 100}).json() for n in (1, 2, 3)]
    assert [sim["iccid"] for page in pages for sim in page] == api.simulator.fleet.iccids()


def test_sim_list_filters_and_sorts_on_imei_and_ip_address(api):
    fleet = api.simulator.fleet
    target = fleet.sim(pick(fleet, lambda i: fleet.sim(i).imei))

    by_imei = api.get("/v2/sims", params={"q": f"imei:{target.imei}"}).json()
    by_ip = api.get("/v2/sims", params={"q": f"ip_address:{target.ip_address}"}).json()
    newest = api.get("/v2/sims", params={"sort": "-ip_address", "pageSize": 3}).json()

    assert [sim["iccid"] for sim in by_imei + by_ip] == [target.iccid] * 2
    assert [sim["iccid"] for sim in newest] == fleet.iccids()[-1:-4:-1]
    assert_v2_error(api.get("/v2/sims", params={"q": "label:x"}), 400, "BadRequest")


@pytest.mark.parametrize(
    ("path", "size_name", "largest"),
    [
        ("/v2/sims", "pageSize", 100),
        ("/v2/sims/{iccid}/events", "pageSize", 1000),
        ("/v2/sims/{iccid}/sms", "per_page", 1000),
    ],
)
def test_page_size_limits(api, path, size_name, largest):
    path = path.format(iccid=api.simulator.fleet.iccids()[0])

    assert api.get(path, params={size_name: largest}).status_code == 200
    assert_v2_error(api.get(path, params={size_name: largest + 1}), 400, "BadRequest")
    assert_v2_error(api.get(path, params={size_name: 0}), 400, "BadRequest")


def test_events_page_newest_first_without_headers_or_sort(api):
    fleet = api.simulator.fleet
    iccid = max(fleet.iccids()[:40], key=lambda i: len(fleet.events(i)))
    truth = [event.id for event in fleet.events(iccid)]

    first = api.get(f"/v2/sims/{iccid}/events")
    pages = [first.json()]
    while len(pages[-1]) == 10:
        pages.append(api.get(f"/v2/sims/{iccid}/events", params={"page": len(pages) + 1}).json())
    oldest_first = api.get(f"/v2/sims/{iccid}/events", params={"sort": "timestamp"}).json()

    assert len(pages[0]) == 10 < len(truth)
    assert [event["id"] for page in pages for event in page] == truth
    assert not [name for name in first.headers if name.startswith("X-")]
    assert oldest_first == pages[0]


def test_sms_pages_with_per_page_and_ignores_page_size(api):
    fleet = api.simulator.fleet
    iccid = max(fleet.iccids()[:100], key=lambda i: len(fleet.sms(i)))
    count = len(fleet.sms(iccid))

    default = api.get(f"/v2/sims/{iccid}/sms")
    one = api.get(f"/v2/sims/{iccid}/sms", params={"per_page": 1, "page": 2}).json()
    ignored = api.get(f"/v2/sims/{iccid}/sms", params={"pageSize": 1}).json()

    assert count >= 2
    assert len(default.json()) == min(count, 20)
    assert one == [default.json()[1]]
    assert ignored == default.json()
    assert not [name for name in default.headers if name.startswith("X-")]


def test_v1_and_v2_share_one_sims_limit(make_simulator, connect):
    api = connect(make_simulator(sims=20, rps=4))

    statuses = [api.get(f"/{version}/sims").status_code for version in ("v1", "v2") * 4]

    assert statuses[:4] == [200] * 4
    assert statuses[4:] == [429] * 4
    stats = api.simulator.stats()
    assert (stats["v1_requests"], stats["v2_requests"], stats["status_429"]) == (4, 4, 4)
    throttled = api.get("/v2/sims")
    assert (throttled.status_code, throttled.json()) == (429, {"message": "Too Many Requests"})
