"""Who may open what: every page route against every role, and no route left out."""

import pytest
from werkzeug.exceptions import HTTPException

from tests.admin import test_access as admin_access
from tests.api import test_access as api_access
from tests.bulk import test_access as bulk_access
from tests.helpers import PASSWORD

ICCID = "8988228066000000001"
# (method, path, minimum role); None means public.
ROUTES = [
    ("GET", "/health", None),
    ("GET", "/health/live", None),
    ("GET", "/health/ready", None),
    ("GET", "/metrics", None),  # behind a bearer token when METRICS_TOKEN is set (test_ops)
    ("GET", "/api/v1/metrics", None),
    ("GET", "/api/v1/openapi.json", None),
    ("GET", "/api/docs", None),  # 404 to anonymous users unless API_DOCS_ENABLED (tests/api)
    ("GET", "/login", None),
    ("POST", "/login", None),
    ("GET", "/", "viewer"),
    ("GET", "/fleet/usage.json", "viewer"),
    ("GET", "/fleet/sync-status", "viewer"),
    ("GET", "/sims", "viewer"),
    ("GET", "/sims/export.csv", "viewer"),
    ("POST", "/sims/views", "viewer"),
    ("POST", "/sims/views/1/delete", "viewer"),
    ("GET", f"/sims/{ICCID}", "viewer"),
    ("GET", f"/sims/{ICCID}/usage.json", "viewer"),
    ("GET", f"/sims/{ICCID}/usage", "viewer"),
    ("GET", f"/sims/{ICCID}/events", "viewer"),
    ("GET", f"/sims/{ICCID}/actions", "viewer"),
    ("POST", f"/sims/{ICCID}/check", "operator"),
    ("POST", f"/sims/{ICCID}/actions/label", "operator"),
    ("GET", "/alerts", "viewer"),
    ("GET", "/admin/users", "admin"),
    ("POST", "/admin/users", "admin"),
    ("POST", "/admin/users/1", "admin"),
    ("POST", "/logout", "viewer"),
    ("GET", "/account", "viewer"),
    ("POST", "/account/password", "viewer"),
    ("POST", "/account/time-zone", "viewer"),
    ("POST", "/account/sign-out-everywhere", "viewer"),
    ("GET", "/sync", "operator"),
    ("POST", "/sync/inventory", "operator"),
    ("POST", "/sync/runs/1/cancel", "operator"),
]
# Endpoints no matrix needs to try, and why.
OUTSIDE_THE_MATRICES = {
    "static": "stylesheets, scripts and images: public, the sign-in page needs them",
}
ROLES = ["anonymous", "viewer", "operator", "admin"]
RANK = {role: rank for rank, role in enumerate(ROLES)}


def expected_status(role: str, minimum: str | None) -> str:
    if minimum is None or RANK[role] >= RANK[minimum]:
        return "allowed"
    return "login" if role == "anonymous" else "forbidden"


@pytest.fixture
def sim(make_sim):
    """The SIM the matrix's SIM routes name."""
    return make_sim(iccid=ICCID)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path", "minimum"), ROUTES)
def test_access_matrix(client, login, sim, role, method, path, minimum):
    if role != "anonymous":
        login(role)
    response = client.open(path, method=method)
    outcome = expected_status(role, minimum)
    if outcome == "login":
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")
    elif outcome == "forbidden":
        assert response.status_code == 403
    else:
        assert response.status_code not in (401, 403)
        assert "next=" not in response.headers.get("Location", "")


def test_admin_link_only_for_admins(client, login):
    login("operator")
    assert "/admin/users" not in client.get("/").text


def test_unsafe_requests_need_a_csrf_token(client, login):
    login("admin")
    response = client.post(
        "/admin/users", data={"email": "x@example.com", "password": "p" * 12}, csrf=False
    )
    assert response.status_code == 400
    assert "CSRF" in response.text


def test_login_form_needs_a_csrf_token(client, make_user):
    user = make_user()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD}, csrf=False)
    assert response.status_code != 303


def matrix_requests() -> list[tuple[str, str]]:
    """Every (method, path) an access matrix tries: this one, the admin, bulk and API ones."""
    return [
        *((method, path) for method, path, _ in ROUTES),
        *((method, path.format(prefix="sf_x")) for method, path in admin_access.ROUTES),
        *bulk_access.ROUTES,
        *(("GET", path) for path in api_access.READS),
        *((method, path) for method, path, _ in api_access.WRITES),
    ]


def test_every_route_is_in_an_access_matrix(app):
    adapter = app.url_map.bind("localhost")
    covered, stale = set(), []
    for method, path in matrix_requests():
        try:
            endpoint, _ = adapter.match(path, method=method)
        except HTTPException:  # not found, another method, or a redirect: the row names no route
            stale.append(f"{method} {path}")
        else:
            covered.add((endpoint, method))
    missing = sorted(
        f"{method} {rule.rule} ({rule.endpoint})"
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in OUTSIDE_THE_MATRICES
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
        if (rule.endpoint, method) not in covered
    )
    assert not missing and not stale, "\n".join(
        ["routes in no access matrix:", *missing, "matrix rows that match no route:", *stale]
    )
