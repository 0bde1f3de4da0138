"""Signing in and out: passwords, throttling, sessions, redirects and the audit trail."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.helpers import PASSWORD
from webapp.auth.passwords import hash_password
from webapp.extensions import db
from webapp.models import AuditEvent, LoginLockout, Role, UserSession
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
    for name in ("session=", "simfleet_remember=", "simfleet_device="):
        cookie = next(c for c in cookies if c.startswith(name))
        assert "HttpOnly" in cookie
        assert "SameSite=Lax" in cookie
        assert "Secure" not in cookie  # only in production


def test_idle_session_is_ended(client, login):
    user = login()
    db.session.execute(
        sa.update(UserSession)
        .where(UserSession.user_id == user.id)
        .values(expires_at=utcnow() - timedelta(minutes=1))
    )
    db.session.commit()
    response = client.get("/")
    assert response.status_code == 302
    assert "inactivity" in client.get(response.headers["Location"]).text
    assert client.get("/").status_code == 302


def test_remember_me_survives_idle_time(client, make_user):
    user = make_user()
    client.post("/login", data={"email": user.email, "password": PASSWORD, "remember": "y"})
    db.session.execute(sa.update(UserSession).values(last_seen_at=utcnow() - timedelta(hours=5)))
    db.session.commit()
    client.delete_cookie("session")  # the browser dropped the idle session cookie
    assert client.get("/").status_code == 200


@pytest.fixture
def throttled_settings(settings):
    settings.update(
        RATELIMIT_ENABLED=True,
        LOGIN_LIMIT_PER_ACCOUNT="3 per minute",
        LOGIN_LIMIT_PER_IP="6 per minute",
    )
    return settings


def test_failed_logins_lock_out_their_source(throttled_settings, client, make_user):
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


ATTACKER = {"REMOTE_ADDR": "203.0.113.66"}
OWNER = {"REMOTE_ADDR": "198.51.100.7"}


@pytest.fixture
def lockout_settings(settings):
    settings.update(
        RATELIMIT_ENABLED=True,
        LOGIN_LIMIT_PER_ACCOUNT="3 per minute",
        LOGIN_LIMIT_PER_ACCOUNT_NEW_DEVICES="8 per minute",
        LOGIN_LIMIT_PER_IP="100 per minute",
    )
    return settings


def guess(client, email: str, environ: dict | None = None, password: str = "wrong password"):
    return client.post(
        "/login", data={"email": email, "password": password}, environ_base=environ or ATTACKER
    )


def test_failures_from_elsewhere_do_not_lock_out_the_owner(lockout_settings, app, make_user):
    user = make_user()
    for _ in range(5):
        assert guess(app.test_client(), user.email).status_code in (401, 429)
    owner = app.test_client()
    response = owner.post(
        "/login", data={"email": user.email, "password": PASSWORD}, environ_base=OWNER
    )
    assert response.status_code == 303


def test_a_known_device_is_not_locked_out_from_its_own_address(lockout_settings, app, make_user):
    """Failures from the owner's own address (a shared office NAT) spare a device that signed
    in before: it proves so with its device cookie."""
    user = make_user()
    owner = app.test_client()
    assert guess(owner, user.email, OWNER, PASSWORD).status_code == 303
    owner.post("/logout")
    for _ in range(5):
        guess(app.test_client(), user.email, OWNER)
    assert guess(app.test_client(), user.email, OWNER, PASSWORD).status_code == 429
    assert guess(owner, user.email, OWNER, PASSWORD).status_code == 303


def test_a_forged_device_cookie_proves_nothing(lockout_settings, app, make_user):
    user = make_user()
    attacker = app.test_client()
    attacker.set_cookie("simfleet_device", f'{{"id": "x", "users": [{user.id}]}}')
    for _ in range(3):
        guess(attacker, user.email)
    assert guess(attacker, user.email, password=PASSWORD).status_code == 429


def test_a_locked_out_source_is_refused_audited_and_shown_to_admins(
    lockout_settings, app, client, make_user
):
    user = make_user()
    attacker = app.test_client()
    statuses = [guess(attacker, user.email).status_code for _ in range(3)]
    assert statuses == [401, 401, 401]
    response = guess(attacker, user.email, password=PASSWORD)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert "Too many failed sign-ins" in response.text
    lockout = db.session.scalars(sa.select(LoginLockout)).one()
    assert (lockout.email, lockout.scope, lockout.source) == (user.email, "source", "203.0.113.66")
    actions = audit_actions()
    assert actions.count("auth.lockout") == 1
    assert actions[-1] == "auth.login_throttled"
    admin = make_user("admin")
    assert guess(client, admin.email, OWNER, PASSWORD).status_code == 303
    page = client.get("/admin/users").text
    assert "Sign-in lockouts" in page and "203.0.113.66" in page


def test_an_admin_lifts_a_lockout(lockout_settings, app, client, make_user):
    user = make_user()
    attacker = app.test_client()
    for _ in range(3):
        guess(attacker, user.email)
    assert guess(attacker, user.email, password=PASSWORD).status_code == 429
    admin = make_user("admin")
    guess(client, admin.email, OWNER, PASSWORD)
    lockout = db.session.scalars(sa.select(LoginLockout)).one()
    assert client.post(f"/admin/lockouts/{lockout.id}/lift").status_code == 303
    db.session.refresh(lockout)
    assert lockout.lifted_by_id == admin.id
    assert "auth.lockout_lifted" in audit_actions()
    assert "203.0.113.66" not in client.get("/admin/users").text
    assert guess(attacker, user.email, password=PASSWORD).status_code == 303


def test_many_sources_lock_new_devices_but_not_known_ones(lockout_settings, app, make_user):
    user = make_user()
    owner = app.test_client()
    assert guess(owner, user.email, OWNER, PASSWORD).status_code == 303
    owner.post("/logout")
    for n in range(8):
        guess(app.test_client(), user.email, {"REMOTE_ADDR": f"203.0.113.{n + 1}"})
    newcomer = guess(app.test_client(), user.email, {"REMOTE_ADDR": "192.0.2.1"}, PASSWORD)
    assert newcomer.status_code == 429
    assert guess(owner, user.email, OWNER, PASSWORD).status_code == 303
    scopes = set(db.session.scalars(sa.select(LoginLockout.scope)))
    assert scopes == {"new_devices"}


def test_throttled_addresses_are_audited(throttled_settings, client):
    for i in range(7):
        client.post("/login", data={"email": f"guess{i}@example.com", "password": "wrong"})
    event = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "auth.login_throttled")
    ).one()
    assert event.details == {"scope": "address"}
    assert event.actor == "guess6@example.com"


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short pass1", "at least 12"),
        ("password1234", "too common"),
        ("Qwertyuiop123!", "too common"),
        ("iloveyou 2024", "too common"),
        ("aaaaaaaaaaaaaa", "too simple"),
        ("123456789012", "too simple"),
        ("Jane.Doe@example.com", "made from the email"),
        ("janedoe-2024!!", "made from the email"),
    ],
)
def test_weak_passwords_are_refused(app, password, message):
    from webapp.admin.services import UserError, create_user

    with pytest.raises(UserError, match=message):
        create_user(email="jane.doe@example.com", password=password, role=Role.VIEWER)


def test_change_own_password(app, client, make_user):
    user = make_user()
    other = app.test_client()
    guess(other, user.email, OWNER, PASSWORD)
    guess(client, user.email, OWNER, PASSWORD)
    new = "a brand new passphrase"
    wrong = client.post(
        "/account/password",
        data={"current_password": "not it at all", "new_password": new, "confirm": new},
    )
    assert wrong.status_code == 422
    assert "current password is wrong" in wrong.text
    weak = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "password1234",
            "confirm": "password1234",
        },
    )
    assert weak.status_code == 422
    response = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": new, "confirm": new},
    )
    assert response.status_code == 303
    assert client.get("/").status_code == 200  # this session goes on
    assert other.get("/").status_code == 302  # the other one ended
    client.post("/logout")
    assert guess(client, user.email, OWNER, PASSWORD).status_code == 401
    assert guess(client, user.email, OWNER, new).status_code == 303
    assert "auth.password_change" in audit_actions()


def test_a_weak_old_password_must_be_changed_after_sign_in(client, make_user):
    user = make_user()
    user.password_hash = hash_password("tenletters")  # set before the rules were stricter
    db.session.commit()
    assert guess(client, user.email, OWNER, "tenletters").status_code == 303
    response = client.get("/sims")
    assert response.status_code == 302
    assert response.headers["Location"] == "/account"
    assert "Choose a new password" in client.get("/account").text
