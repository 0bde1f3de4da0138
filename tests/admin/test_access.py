"""Every admin route against every role: admins only; anonymous users are sent to sign in."""

import pytest

from webapp.apikeys.services import create_api_key
from webapp.extensions import db
from webapp.models import LoginLockout
from webapp.models.base import utcnow

ROUTES = [
    ("GET", "/admin/users"),
    ("POST", "/admin/users"),
    ("POST", "/admin/users/1"),
    ("GET", "/admin/users/1/sessions"),
    ("POST", "/admin/users/1/sessions/1/end"),
    ("POST", "/admin/users/1/sessions/end"),
    ("POST", "/admin/users/1/require-password-change"),
    ("POST", "/admin/lockouts/1/lift"),
    ("GET", "/admin/api-keys"),
    ("POST", "/admin/api-keys"),
    ("GET", "/admin/api-keys/{prefix}/revoke"),
    ("POST", "/admin/api-keys/{prefix}/revoke"),
    ("GET", "/admin/audit"),
    ("GET", "/admin/audit/rows"),
    ("GET", "/admin/audit.csv"),
]
ROLES = ["anonymous", "viewer", "operator", "admin"]


@pytest.fixture
def key_prefix(app):
    """An API key's prefix (and a lockout, id 1, for the lockout routes)."""
    key, _ = create_api_key(name="script", scope="read")
    db.session.add(
        LoginLockout(
            email="someone@example.com", scope="source", source="203.0.113.1", until=utcnow()
        )
    )
    db.session.commit()
    return key.prefix


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_admin_routes_are_for_admins_only(client, login, key_prefix, role, method, path):
    if role != "anonymous":
        login(role)
    response = client.open(path.format(prefix=key_prefix), method=method, data={})
    if role == "anonymous":
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")
    elif role == "admin":
        # A fragment's URL opened without htmx leads to its page: a redirect, but not to sign-in.
        assert response.status_code not in (401, 403, 404, 405)
        assert not response.headers.get("Location", "").startswith("/login")
    else:
        assert response.status_code == 403
        assert key_prefix not in response.text


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_non_admins_see_no_admin_links_or_actions(client, login, role):
    login(role)
    page = client.get("/").text
    for path in ("/admin/users", "/admin/api-keys", "/admin/audit"):
        assert path not in page


def test_admin_pages_share_the_sub_navigation(client, login):
    login("admin")
    for path in ("/admin/users", "/admin/api-keys", "/admin/audit"):
        page = client.get(path).text
        assert 'aria-label="Administration"' in page
        assert f'href="{path}" aria-current="page"' in page
        assert 'href="/sync"' in page
        assert "<script>" not in page and " onclick=" not in page  # CSP: no inline code


def test_actions_need_a_csrf_token(client, login, key_prefix):
    login("admin")
    for path in ("/admin/api-keys", f"/admin/api-keys/{key_prefix}/revoke"):
        assert client.post(path, data={"name": "x", "scope": "read"}, csrf=False).status_code == 400
