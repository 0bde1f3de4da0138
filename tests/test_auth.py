"""Signing in and out: passwords, throttling, sessions, redirects and the audit trail."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.helpers import PASSWORD
from webapp.extensions import db
from webapp.models import AuditEvent
from webapp.models.base import utcnow


def audit_actions() -> list[str]:
    return list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


def test_login_page_renders(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert 'name="csrf_token"' in response.text


def test_sign_in_and_out(client, make_user):
    user = make_user("operator")
    response = client.post("/login", data={"email": user.email.upper(), "password": PASSWORD})
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    assert client.post("/logout").status_code == 303
    assert client.get("/").status_code == 302
    assert audit_actions() == ["user.create", "auth.login", "auth.logout"]


def test_wrong_password_is_refused_and_audited(client, make_user):
    user = make_user()
    response = client.post("/login", data={"email": user.email, "password": "wrong password"})
    assert response.status_code == 401
    assert "Wrong email or password" in response.text
    event = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "auth.login_failed")
    ).one()
    assert event.actor == user.email
    assert "wrong password" not in str(event.details)


def test_unknown_email_gets_the_same_answer(client):
    response = client.post("/login", data={"email": "nobody@example.com", "password": "x" * 12})
    assert response.status_code == 401
    assert "Wrong email or password" in response.text


def test_deactivated_user_cannot_sign_in(client, make_user):
    user = make_user()
    user.active = False
    db.session.commit()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 401


def test_deactivation_ends_an_open_session(client, login):
    user = login("viewer")
    user.active = False
    db.session.commit()
    assert client.get("/").status_code == 302


def test_logout_is_post_only(client, login):
    login()
    assert client.get("/logout").status_code == 405


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/sims?status=Enabled", "/sims?status=Enabled"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
def test_next_redirect_is_local_only(client, make_user, next_url, expected):
    user = make_user()
    response = client.post(
        "/login", query_string={"next": next_url}, data={"email": user.email, "password": PASSWORD}
    )
    assert response.headers["Location"] == expected


def test_anonymous_users_are_sent_to_login_with_next(client):
    response = client.get("/sims")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_session_cookie_flags(client, make_user):
    user = make_user()
    response = client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "remember": "y"}
    )
    cookies = response.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookies if c.startswith("session="))
    remember_cookie = next(c for c in cookies if c.startswith("remember_token="))
    for cookie in (session_cookie, remember_cookie):
        assert "HttpOnly" in cookie
        assert "SameSite=Lax" in cookie
    assert "Secure" not in session_cookie  # only in production


def test_idle_session_is_ended(client, login):
    login()
    with client.session_transaction() as session:
        session["last_active"] = utcnow() - timedelta(minutes=31)
    response = client.get("/")
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_remember_me_survives_idle_time(client, make_user):
    user = make_user()
    client.post("/login", data={"email": user.email, "password": PASSWORD, "remember": "y"})
    with client.session_transaction() as session:
        session["last_active"] = utcnow() - timedelta(hours=5)
    assert client.get("/").status_code == 200


@pytest.fixture
def throttled_settings(settings):
    settings.update(
        RATELIMIT_ENABLED=True,
        LOGIN_LIMIT_PER_ACCOUNT="3 per minute",
        LOGIN_LIMIT_PER_IP="6 per minute",
    )
    return settings


def test_failed_logins_lock_the_account(throttled_settings, client, make_user):
    user = make_user()
    for _ in range(3):
        client.post("/login", data={"email": user.email, "password": "wrong password"})
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 429
    assert "Retry-After" in response.headers


def test_successful_logins_do_not_count_against_the_account(throttled_settings, client, make_user):
    user = make_user()
    for _ in range(4):
        response = client.post("/login", data={"email": user.email, "password": PASSWORD})
        assert response.status_code == 303
        client.post("/logout")


def test_one_address_is_throttled_across_accounts(throttled_settings, client):
    statuses = [
        client.post(
            "/login", data={"email": f"guess{i}@example.com", "password": "wrong password"}
        ).status_code
        for i in range(7)
    ]
    assert statuses[:6] == [401] * 6
    assert statuses[6] == 429
