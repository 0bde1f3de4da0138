"""Reading SIMs, usage and events: shapes, filters, keyset paging, problems, ETags and gzip."""

import gzip
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from devtools.generate_fleet import first_iccid
from tests.helpers import UNKNOWN_ICCID
from webapp.extensions import db
from webapp.models import SimEvent
from webapp.models.sim import QUOTA_STATES

SIM_FIELDS = {
    "iccid", "imsi", "msisdn", "imei", "imei_lock", "status", "label", "ip_address",
    "activation_date", "data_quota", "sms_quota", "connectivity", "forecast", "synced_at",
}  # fmt: skip


def test_one_sim_has_the_contract_fields(client, fleet, keys):
    body = client.get(f"/api/v1/sims/{fleet}", headers=keys["read"]).json
    assert set(body) >= SIM_FIELDS
    assert body["iccid"] == fleet
    assert set(body["data_quota"]) >= {"remaining_mb", "total_mb", "expiry_date", "state"}
    assert set(body["sms_quota"]) >= {"remaining", "total", "expiry_date", "state"}
    assert set(body["connectivity"]) >= {"status", "last_seen_at", "operator", "country"}
    assert set(body["forecast"]) >= {"ends_on", "reason", "runs_out_on", "unused_at_expiry_mb"}
    assert set(body["synced_at"]) >= {"inventory", "usage", "quotas", "events"}
    assert isinstance(body["data_quota"]["total_mb"], int | float)
    assert body["activation_date"].endswith("+00:00")


def test_empty_label_and_imei_are_null(client, fleet, keys):
    db.session.execute(
        sa.text("UPDATE sims SET label = '', imei = NULL WHERE iccid = :i"), {"i": fleet}
    )
    db.session.commit()
    body = client.get(f"/api/v1/sims/{fleet}", headers=keys["read"]).json
    assert body["label"] is None and body["imei"] is None


def test_sim_documents_follow_every_write_in_utc(client, fleet, keys):
    # The documents are rewritten by triggers in the writer's transaction, whatever its time
    # zone: a write outside the app's UTC sessions still yields UTC times.
    db.session.execute(sa.text("SET LOCAL TimeZone TO 'America/New_York'"))
    db.session.execute(
        sa.text(
            "UPDATE sims SET label = 'moved', data_remaining_mb = 12.5,"
            " last_seen_at = '2026-01-02 03:04:05+00' WHERE iccid = :i"
        ),
        {"i": fleet},
    )
    db.session.commit()
    body = client.get(f"/api/v1/sims/{fleet}", headers=keys["read"]).json
    assert body["label"] == "moved"
    assert body["data_quota"]["remaining_mb"] == 12.5
    assert body["connectivity"]["last_seen_at"] == "2026-01-02T03:04:05+00:00"
    page = client.get("/api/v1/sims?limit=1000", headers=keys["read"]).json["data"]
    assert next(sim for sim in page if sim["iccid"] == fleet) == body


@pytest.mark.parametrize("iccid", [UNKNOWN_ICCID, "not-an-iccid", "1" * 30])
def test_unknown_sim_is_a_404_problem(client, fleet, keys, iccid):
    response = client.get(f"/api/v1/sims/{iccid}", headers=keys["read"])
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"
    body = response.json
    assert body["type"] == "urn:simfleet:problem:not-found"
    assert {"title", "status", "detail"} <= set(body) and body["status"] == 404


@pytest.mark.parametrize(
    ("method", "path", "status", "slug"),
    [
        ("GET", "/api/v1/no-such-thing", 404, "not-found"),
        ("GET", "/api/v2/sims", 404, "not-found"),
        ("DELETE", "/api/v1/sims", 405, "method-not-allowed"),
    ],
)
def test_routing_errors_are_problems_of_the_api(client, keys, method, path, status, slug):
    response = client.open(path, method=method, headers=keys["read"], csrf=False)
    assert response.status_code == status
    assert response.content_type == "application/problem+json"
    assert response.json["type"] == f"urn:simfleet:problem:{slug}"
    if status == 405:
        assert "GET" in response.headers["Allow"]


def _walk(client, headers, query="", between_pages=None) -> list[str]:
    iccids, cursor, pages = [], None, 0
    while True:
        url = f"/api/v1/sims?limit=1000{query}" + (f"&cursor={cursor}" if cursor else "")
        body = client.get(url, headers=headers).json
        iccids += [sim["iccid"] for sim in body["data"]]
        cursor, pages = body["next_cursor"], pages + 1
        if cursor is None:
            return iccids
        if between_pages:
            between_pages(pages)


def test_paging_walks_5000_sims_once_each_while_rows_change(client, make_fleet, keys):
    make_fleet(sims=5000)

    def churn(page: int) -> None:
        # Rows both behind and ahead of the cursor change between pages.
        db.session.execute(
            sa.text(
                "UPDATE sims SET label = 'moved-' || :p, "
                "status = CASE status WHEN 'Enabled' THEN 'Disabled' ELSE 'Enabled' END "
                "WHERE (iccid::bigint % 7) = :p"
            ),
            {"p": page},
        )
        db.session.commit()

    iccids = _walk(client, keys["read"], between_pages=churn)
    expected = list(db.session.scalars(sa.text("SELECT iccid FROM sims ORDER BY iccid")))
    assert len(iccids) == 5000 and len(set(iccids)) == 5000
    assert iccids == expected


def test_filters(client, make_fleet, keys):
    make_fleet(sims=300)
    headers = keys["read"]

    def count(where: str) -> int:
        return db.session.scalar(sa.text(f"SELECT count(*) FROM sims WHERE {where}"))

    def got(query: str) -> list[dict]:
        response = client.get(f"/api/v1/sims?limit=1000&{query}", headers=headers)
        assert response.status_code == 200, response.text
        return response.json["data"]

    assert len(got("status=Disabled")) == count("status = 'Disabled'")
    assert len(got("quota_state=low")) == count("data_quota_state = 1")
    assert {s["data_quota"]["state"] for s in got("quota_state=exhausted")} == {"exhausted"}
    assert len(got("online=true")) == count("online")
    assert len(got("online=false")) == count("NOT online")
    assert len(got("label=NORTH")) == count("label ILIKE '%north%'")
    assert [s["iccid"] for s in got(f"q={first_iccid()}")] == [first_iccid()]
    assert [s["msisdn"] for s in got("q=2285100000001")] == ["882285100000001"]
    assert len(got("q=10.0.1.")) == count("ip_address LIKE '%10.0.1.%'")
    assert got("q=100%25") == []  # a literal %, not a wildcard
    assert len(got("status=Enabled&online=true&quota_state=ok")) == count(
        "status = 'Enabled' AND online AND data_quota_state = 0"
    )
    # The inventory's filters too; `unseen` is measured against the database's clock.
    assert len(got("unseen=24h")) == count(
        "last_seen_at IS NULL OR last_seen_at < now() - interval '24 hours'"
    )
    assert len(got("has_label=false")) == count("coalesce(label, '') = ''")


def test_documents_name_the_quota_states_as_the_app_does(client, fleet, keys):
    # sim_document() spells the names in SQL of its own: migrations never import the app.
    for state in QUOTA_STATES.values():
        db.session.execute(
            sa.text("UPDATE sims SET data_quota_state = :s, sms_quota_state = :s WHERE iccid = :i"),
            {"s": state.id, "i": fleet},
        )
        db.session.commit()
        body = client.get(f"/api/v1/sims/{fleet}", headers=keys["read"]).json
        assert body["data_quota"]["state"] == body["sms_quota"]["state"] == state.name


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=ten", "limit"),
        ("quota_state=full", "quota_state"),
        ("online=maybe", "online"),
        ("cursor=%21%21", "cursor"),
        ("cursor=eyJ4IjoxfQ==", "cursor"),
        ("q=" + "x" * 101, "q"),
    ],
)
def test_bad_list_parameters_are_400_problems(client, fleet, keys, query, field):
    response = client.get(f"/api/v1/sims?{query}", headers=keys["read"])
    assert response.status_code == 400
    assert response.content_type == "application/problem+json"
    assert response.json["field"] == field
    assert response.json["type"] == "urn:simfleet:problem:bad-request"


def test_usage_has_one_row_per_day_zeros_when_known_nulls_when_not(client, fleet, keys):
    # The fleet has ten known days; the five before them were never fetched: nulls, not zeros.
    today = datetime.now(UTC).date()
    start = today - timedelta(days=14)
    db.session.execute(
        sa.text("UPDATE usage_daily SET data_rx_mb = 0, data_tx_mb = 0, sms_mo = 0, sms_mt = 0"
                " WHERE iccid = :i AND day = :d"),
        {"i": fleet, "d": today - timedelta(days=9)},
    )  # fmt: skip
    db.session.commit()
    response = client.get(
        f"/api/v1/sims/{fleet}/usage?start={start}&end={today}", headers=keys["read"]
    )
    rows = response.json["data"]
    assert [r["date"] for r in rows] == [str(start + timedelta(days=n)) for n in range(15)]
    fields = ("data_rx_mb", "data_tx_mb", "data_total_mb", "sms_mo", "sms_mt")
    assert all(r[name] is None for r in rows[:5] for name in fields)
    assert [rows[5][name] for name in fields] == [0, 0, 0, 0, 0]
    last = rows[-1]
    assert set(last) == {"date", *fields}
    assert last["data_total_mb"] == pytest.approx(last["data_rx_mb"] + last["data_tx_mb"])
    assert sum((r["data_total_mb"] or 0) > 0 for r in rows) == 9


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("start=2026-02-30", "start"),
        ("start=yesterday", "start"),
        ("end=20260101", "end"),
        ("start=2026-03-02&end=2026-03-01", "start"),
        ("start=2020-01-01&end=2026-01-01", "start"),
    ],
)
def test_bad_usage_dates_are_400(client, fleet, keys, query, field):
    for path in (f"/api/v1/sims/{fleet}/usage", "/api/v1/fleet/usage"):
        response = client.get(f"{path}?{query}", headers=keys["read"])
        assert response.status_code == 400, path
        assert response.json["field"] == field


def test_events_newest_first_in_keyset_pages(client, fleet, keys):
    base = datetime(2026, 1, 1, tzinfo=UTC)
    db.session.add_all(
        SimEvent(
            iccid=fleet,
            occurred_at=base + timedelta(minutes=n // 2),
            event_key=f"id:{n % 2}",
            event_type=f"Type {n % 2}",
            severity="INFO",
            alert=False,
            details={"n": n},
        )
        for n in range(25)
    )
    db.session.commit()
    seen, cursor = [], ""
    while cursor is not None:
        body = client.get(
            f"/api/v1/sims/{fleet}/events?limit=4&cursor={cursor}", headers=keys["read"]
        ).json
        seen += body["data"]
        cursor = body["next_cursor"]
    assert sorted(e["details"]["n"] for e in seen) == list(range(25))
    keys_in_order = [(e["timestamp"], e["event_type"]) for e in seen]
    assert keys_in_order == sorted(keys_in_order, reverse=True)
    assert set(seen[0]) == {
        "timestamp", "event_type", "severity", "alert", "country", "operator", "details",
    }  # fmt: skip


@pytest.mark.parametrize("path", ["/api/v1/sims/{iccid}", "/api/v1/sims/{iccid}/usage"])
def test_etag_and_304(client, fleet, keys, path):
    url = path.format(iccid=fleet)
    first = client.get(url, headers=keys["read"])
    etag = first.headers["ETag"]
    again = client.get(url, headers=keys["read"] | {"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    db.session.execute(sa.text("UPDATE sims SET label = 'changed' WHERE iccid = :i"), {"i": fleet})
    db.session.execute(sa.text("UPDATE usage_daily SET sms_mo = 99 WHERE iccid = :i"), {"i": fleet})
    db.session.commit()
    changed = client.get(url, headers=keys["read"] | {"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_large_lists_are_gzipped_when_asked(client, make_fleet, keys):
    make_fleet(sims=50)
    plain = client.get("/api/v1/sims", headers=keys["read"])
    assert "Content-Encoding" not in plain.headers
    zipped = client.get("/api/v1/sims", headers=keys["read"] | {"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["Vary"]
    assert len(zipped.data) < len(plain.data) / 3
    assert gzip.decompress(zipped.data) == plain.data
    etag = zipped.headers["ETag"]
    headers = keys["read"] | {"Accept-Encoding": "gzip", "If-None-Match": etag}
    assert client.get("/api/v1/sims", headers=headers).status_code == 304


def test_small_bodies_are_not_gzipped(client, fleet, keys):
    response = client.get("/api/v1/sims/1", headers=keys["read"] | {"Accept-Encoding": "gzip"})
    assert response.status_code == 404 and "Content-Encoding" not in response.headers


def test_fleet_summary_and_usage(client, make_fleet, keys):
    make_fleet(sims=200, usage_days=40)
    summary = client.get("/api/v1/fleet/summary", headers=keys["read"]).json
    assert summary["total_sims"] == 200
    assert sum(summary["sims_by_status"].values()) == 200
    online = db.session.scalar(sa.text("SELECT count(*) FROM sims WHERE online"))
    assert summary["online_now"] == online
    low = db.session.scalar(sa.text("SELECT count(*) FROM sims WHERE data_quota_state = 1"))
    assert summary["sims_quota_low"] == low
    today = datetime.now(UTC).date()
    used_today = db.session.scalar(
        sa.text("SELECT sum(data_rx_mb + data_tx_mb) FROM usage_daily WHERE day = :d"), {"d": today}
    )
    assert summary["data_used_today_mb"] == pytest.approx(float(used_today))
    assert summary["data_used_this_month_mb"] >= summary["data_used_today_mb"]
    silent = db.session.scalar(
        sa.text("SELECT count(*) FROM sims WHERE status = 'Enabled' AND last_traffic_on <= :d"),
        {"d": today - timedelta(days=3)},
    )
    assert summary["sims_silent"] == silent > 0
    usage = client.get(
        f"/api/v1/fleet/usage?start={today - timedelta(days=44)}&end={today}",
        headers=keys["read"],
    ).json["data"]
    assert len(usage) == 45
    # 40 days are known; the 5 before them no SIM's usage was fetched for: null, not 0.
    assert [day["data_total_mb"] for day in usage[:5]] == [None] * 5
    assert usage[5]["data_total_mb"] is not None
    assert usage[-1]["data_total_mb"] == pytest.approx(float(used_today))
    assert date.fromisoformat(usage[-1]["date"]) == today


def test_one_sim_is_the_same_object_as_its_list_item(client, fleet, keys):
    one = client.get(f"/api/v1/sims/{fleet}", headers=keys["read"]).json
    listed = client.get("/api/v1/sims?limit=100", headers=keys["read"]).json["data"]
    assert [item for item in listed if item["iccid"] == fleet] == [one]


def test_the_forecast_says_whether_the_data_runs_out_or_the_quota_expires(client, fleet, keys):
    db.session.execute(
        sa.text(
            "UPDATE sims SET data_exhausted_on = '2027-03-01', data_unused_at_expiry_mb = 245,"
            " data_expires_at = '2026-12-05 12:00+00' WHERE iccid = :i"
        ),
        {"i": fleet},
    )
    db.session.commit()
    forecast = client.get(f"/api/v1/sims/{fleet}", headers=keys["read"]).json["forecast"]
    assert forecast["ends_on"] == forecast["data_exhausted_on"] == "2026-12-05"
    assert (forecast["reason"], forecast["unused_at_expiry_mb"]) == ("expires", 245)
    assert forecast["runs_out_on"] == "2027-03-01"
