"""Hostile input answers 4xx with a clear message, never 500: one test per class of input.

Each class is tried on every route that takes such input, found from the URL map or the
access matrices, so that a new route is covered without being listed here.
"""

import base64
import json
import re

import pytest
import sqlalchemy as sa

from tests.test_access import ICCID, matrix_requests
from webapp.extensions import db
from webapp.models import SavedView

NUL = "a\x00b"
ARABIC_TEN = "\u0661\u0660"  # Arabic-Indic digits: str.isdigit() and int() accept them
SUPERSCRIPT_TWO = "\u00b2"  # str.isdigit() accepts it, int() does not
# Every route once (the matrices try each route with each method it has).
EVERY_ROUTE = sorted(set(matrix_requests()))
DATE_ROUTES = [
    f"/sims/{ICCID}",
    f"/sims/{ICCID}/usage",
    f"/sims/{ICCID}/usage.json",
    f"/api/v1/sims/{ICCID}/usage",
    "/api/v1/fleet/usage",
    "/admin/audit",
    "/admin/audit/rows",
    "/admin/audit.csv",
]
# Beyond either end of what Python's date holds, at its very ends (where a day's arithmetic
# overflows), and years that are not four digits.
BAD_DATES = [
    "0001-01-01",
    "9999-12-31",
    "0000-01-01",
    "10000-01-01",
    "-001-01-01",
    ARABIC_TEN * 2 + "-01-01",
]
API_WRITES = [
    ("PATCH", f"/api/v1/sims/{ICCID}"),
    ("POST", f"/api/v1/sims/{ICCID}/reset"),
    ("POST", f"/api/v1/sims/{ICCID}/topup"),
    ("POST", f"/api/v1/sims/{ICCID}/sms"),
]
# Past PostgreSQL's integer, past its bigint, far past both, and digits that are not ASCII.
BAD_IDS = [str(2**31), str(2**63), "9" * 40, ARABIC_TEN, SUPERSCRIPT_TWO]


def is_problem(response, status: int) -> bool:
    """Whether the response is an API problem of `status`."""
    return (
        response.status_code == status
        and response.mimetype == "application/problem+json"
        and response.json["status"] == status
    )


def read(response):
    """The response with its (possibly streamed) body read, so that errors in it surface."""
    response.get_data()
    return response


@pytest.mark.parametrize(("method", "path"), EVERY_ROUTE)
def test_nul_in_a_parameter_is_refused_on_every_route(attacker, method, path):
    response = read(attacker.open(path, method=method, query_string={"q": NUL}))
    assert response.status_code == 400
    if path.startswith("/api/"):
        assert is_problem(response, 400)
    else:
        assert "NUL" in response.text


@pytest.mark.parametrize(
    ("method", "path"), [(method, path) for method, path in EVERY_ROUTE if method == "POST"]
)
def test_nul_in_a_form_field_is_refused_on_every_form(attacker, method, path):
    fields = {"name": NUL, "email": NUL, "request_key": NUL, "query": "q=x", "label": "x"}
    response = read(attacker.post(path, data=fields))
    assert response.status_code == 400
    assert "NUL" in response.text


def test_nul_in_the_sign_in_form_is_refused(client):
    response = client.post("/login", data={"email": f"{NUL}@example.com", "password": "x"})
    assert response.status_code == 400
    assert "NUL" in response.text


def test_nul_in_a_path_segment_is_refused(attacker):
    assert attacker.get("/admin/api-keys/sf%00x/revoke").status_code == 400
    assert is_problem(attacker.get("/api/v1/sims/8988%0022/usage"), 400)


@pytest.mark.parametrize(("method", "path"), API_WRITES)
@pytest.mark.parametrize(
    "body",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"a":' * 100_000 + "1" + "}" * 100_000,
        '{"label": "a\\u0000b"}',
        '{"la\\u0000bel": "x"}',
        '{"label": "\\ud800"}',
        '{"payload": "\\udfff"}',
    ],
    ids=["deep-array", "deep-object", "nul-value", "nul-key", "high-surrogate", "low-surrogate"],
)
def test_api_write_bodies_too_deep_or_not_text_are_refused(attacker, method, path, body):
    response = attacker.open(
        path, method=method, data=body, headers={"Content-Type": "application/json"}
    )
    assert is_problem(response, 400)
    assert response.json["field"] == "body"


def url_id_routes(app) -> list[tuple[str, str]]:
    """(method, rule) of every route with an `<int:...>` part."""
    return [
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if "<int:" in rule.rule
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    ]


def test_ids_beyond_the_database_are_not_found_on_every_route(attacker, app):
    routes = url_id_routes(app)
    assert routes, "the app has routes with ids"
    for method, rule in routes:
        for bad in BAD_IDS:
            path = re.sub(r"<int:\w+>", bad, rule)
            response = read(attacker.open(path, method=method))
            assert response.status_code == 404, (method, path, response.status_code)


@pytest.mark.parametrize("path", [f"/api/v1/sims/{ICCID}/events", "/api/v1/sims"])
@pytest.mark.parametrize("limit", [SUPERSCRIPT_TWO, ARABIC_TEN, "10" + "0" * 30, "-1", "+5", " 5"])
def test_numbers_are_ascii_digits_in_range(attacker, path, limit):
    response = attacker.get(path, query_string={"limit": limit})
    assert is_problem(response, 400)
    assert response.json["field"] == "limit"


@pytest.mark.parametrize("before", [SUPERSCRIPT_TWO, ARABIC_TEN, str(2**31), "9" * 40])
def test_the_bulk_jobs_page_refuses_a_bad_job_id(attacker, before):
    response = attacker.get("/bulk", query_string={"before": before})
    assert response.status_code == 400
    assert "before" in response.text


@pytest.mark.parametrize("path", DATE_ROUTES)
@pytest.mark.parametrize("name", ["start", "end"])
@pytest.mark.parametrize("day", BAD_DATES)
def test_dates_outside_the_supported_range_are_refused(attacker, path, name, day):
    # As htmx asks for the SIM page's usage panel; a plain request is sent to the page.
    response = read(attacker.get(path, query_string={name: day}, headers={"HX-Request": "true"}))
    if path.startswith("/api/"):
        assert is_problem(response, 400)
        assert response.json["field"] == name
    else:
        # The SIM page shows its default range with the refusal beside the chart.
        assert response.status_code in (200, 400)
        assert "1900-01-01" in response.text


def crafted_cursor(value: object) -> str:
    """A cursor as the pages encode them, holding anything."""
    text = value if isinstance(value, str) else json.dumps(value)
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/api/v1/sims", "cursor"),
        (f"/api/v1/sims/{ICCID}/events", "cursor"),
        ("/sims", "cursor"),
        ("/admin/audit", "before"),
        ("/admin/audit/rows", "before"),
    ],
)
@pytest.mark.parametrize(
    "cursor",
    [
        crafted_cursor("[" * 100_000),
        crafted_cursor({"iccid": "\ud800", "occurred_at": "\ud800", "event_key": "\ud800"}),
        crafted_cursor({"at": "2026-01-01T00:00:00+00:00", "id": SUPERSCRIPT_TWO}),
        crafted_cursor({"at": "2026-01-01T00:00:00+00:00", "id": "9" * 40}),
    ],
    ids=["deep", "surrogates", "unicode-id", "huge-id"],
)
def test_crafted_cursors_are_refused(attacker, path, name, cursor):
    response = read(attacker.get(path, query_string={name: cursor}))
    assert 400 <= response.status_code < 500


@pytest.mark.parametrize(
    "query",
    [
        "q=" + "x" * 5000,
        "&".join(f"{name}={'é' * 100}" for name in ("q", "label", "country", "operator")),
    ],
    ids=["one-long-filter", "long-once-encoded"],
)
def test_an_over_long_saved_view_is_a_form_error(attacker, query):
    response = attacker.post("/sims/views", data={"name": "long", "query": query})
    assert response.status_code == 303
    page = attacker.get(response.headers["Location"]).text
    assert "cannot be saved" in page or "too long to save" in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SavedView)) == 0
