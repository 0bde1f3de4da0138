"""Admins list, create, deactivate users and change their roles; all of it audited."""

import sqlalchemy as sa

from tests.helpers import PASSWORD
from webapp.extensions import db
from webapp.models import AuditEvent, User


def user_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == email))


def last_audit(action: str) -> AuditEvent:
    query = sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    return db.session.scalars(query).all()[-1]


def test_admin_sees_users(client, login, make_user):
    login("admin")
    other = make_user("viewer", email="someone@example.com")
    response = client.get("/admin/users")
    assert response.status_code == 200
    assert other.email in response.text
    assert "HX-Request" in response.headers["Vary"]


def test_create_user(client, login):
    admin = login("admin")
    response = client.post(
        "/admin/users",
        data={"email": "New.Person@Example.com", "password": "a long password", "role": "operator"},
    )
    assert response.status_code == 303
    user = user_by_email("new.person@example.com")
    assert user.role == "operator"
    assert user.password_hash.startswith("$argon2id$")
    event = last_audit("user.create")
    assert (event.actor_id, event.target) == (admin.id, "new.person@example.com")


def test_create_user_with_htmx_redirects(client, login):
    login("admin")
    response = client.post(
        "/admin/users",
        data={"email": "h@example.com", "password": "a long password", "role": "viewer"},
        headers={"HX-Request": "true"},
    )
    assert response.headers["HX-Redirect"] == "/admin/users"


def test_invalid_user_shows_errors(client, login, make_user):
    login("admin")
    make_user(email="taken@example.com")
    for data, message in [
        ({"email": "taken@example.com", "password": "a long password"}, "already exists"),
        ({"email": "short@example.com", "password": "a short one"}, "at least 12"),
        ({"email": "common@example.com", "password": "password12345"}, "too common"),
        ({"email": "mine@example.com", "password": "mine@example.com"}, "made from the email"),
    ]:
        response = client.post(
            "/admin/users", data={**data, "role": "viewer"}, headers={"HX-Request": "true"}
        )
        assert response.status_code == 422
        assert message in response.text
        assert "<html" not in response.text  # the partial only


def test_change_role_and_deactivate(client, login, make_user):
    login("admin")
    user = make_user("viewer")
    response = client.post(f"/admin/users/{user.id}", data={"role": "operator", "active": "0"})
    assert response.status_code == 303
    db.session.refresh(user)
    assert (user.role, user.active) == ("operator", False)
    event = last_audit("user.update")
    assert event.details == {"role": ["viewer", "operator"], "active": [True, False]}


def test_admin_cannot_lock_themselves_out(client, login):
    admin = login("admin")
    client.post(f"/admin/users/{admin.id}", data={"role": "viewer", "active": "1"})
    db.session.refresh(admin)
    assert admin.role == "admin"
    assert "cannot deactivate yourself" in client.get("/admin/users").text


def test_reactivated_user_can_sign_in_again(client, login, make_user):
    login("admin")
    user = make_user()
    client.post(f"/admin/users/{user.id}", data={"role": "viewer", "active": "0"})
    client.post(f"/admin/users/{user.id}", data={"role": "viewer", "active": "1"})
    client.post("/logout")
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 303


def test_admin_requires_a_password_change(app, client, login, make_user):
    login("admin")
    user = make_user()
    victim = app.test_client()
    victim.post("/login", data={"email": user.email, "password": PASSWORD})
    response = client.post(f"/admin/users/{user.id}/require-password-change")
    assert response.status_code == 303
    assert "must change password" in client.get("/admin/users").text
    assert last_audit("user.require_password_change").target == user.email
    page = victim.get("/sims")
    assert (page.status_code, page.headers["Location"]) == (302, "/account")
    new = "a fresh passphrase here"
    victim.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": new, "confirm": new},
    )
    db.session.refresh(user)
    assert not user.must_change_password
    assert victim.get("/sims").status_code == 200


def test_a_users_sessions_page_links_from_the_users_page(client, login, make_user):
    login("admin")
    user = make_user()
    assert f"/admin/users/{user.id}/sessions" in client.get("/admin/users").text
