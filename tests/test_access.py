"""Who may open what: every page route against every role."""

import pytest

# (method, path, minimum role); None means public.
ROUTES = [
    ("GET", "/health", None),
    ("GET", "/health/live", None),
    ("GET", "/login", None),
    ("GET", "/", "viewer"),
    ("GET", "/sims", "viewer"),
    ("GET", "/alerts", "viewer"),
    ("GET", "/admin/users", "admin"),
    ("POST", "/admin/users", "admin"),
    ("POST", "/admin/users/1", "admin"),
    ("POST", "/logout", "viewer"),
    ("GET", "/sync", "operator"),
    ("POST", "/sync/inventory", "operator"),
]
ROLES = ["anonymous", "viewer", "operator", "admin"]
RANK = {role: rank for rank, role in enumerate(ROLES)}


def expected_status(role: str, minimum: str | None) -> str:
    if minimum is None or RANK[role] >= RANK[minimum]:
        return "allowed"
    return "login" if role == "anonymous" else "forbidden"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path", "minimum"), ROUTES)
def test_access_matrix(client, login, role, method, path, minimum):
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
    response = client.post(
        "/login", data={"email": user.email, "password": "correct horse battery"}, csrf=False
    )
    assert response.status_code != 303
