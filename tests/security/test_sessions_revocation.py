"""Sessions end on the server: a copied session or remember-me cookie stops working at sign-out,
password change, "sign out everywhere" or an admin's word, and remember tokens are random."""

import hashlib

import pytest
import sqlalchemy as sa
from flask_login.utils import encode_cookie

from tests.helpers import PASSWORD
from webapp.extensions import db
from webapp.models import UserSession


def sign_in(client, email: str, *, remember: bool = False):
    data = {"email": email, "password": PASSWORD} | ({"remember": "y"} if remember else {})
    response = client.post("/login", data=data)
    assert response.status_code == 303
    return response


def cookie(client, name: str) -> str:
    found = client.get_cookie(name)
    assert found is not None, f"no {name} cookie"
    return found.value


def browser_with(app, **cookies: str):
    """A new browser holding only copies of these cookies."""
    client = app.test_client()
    for name, value in cookies.items():
        client.set_cookie(name, value)
    return client


def test_a_session_cookie_copied_before_sign_out_stops_working(app, client, make_user):
    user = make_user()
    sign_in(client, user.email)
    copied = cookie(client, "session")
    assert browser_with(app, session=copied).get("/").status_code == 200
    client.post("/logout")
    thief = browser_with(app, session=copied)
    assert thief.get("/").status_code == 302
    assert thief.get("/").status_code == 302  # a replay does not revive it


def test_remember_tokens_are_random_per_sign_in_and_stored_hashed(app, make_user):
    user = make_user()
    tokens = []
    for _ in range(2):
        browser = app.test_client()
        sign_in(browser, user.email, remember=True)
        tokens.append(cookie(browser, "simfleet_remember"))
    assert tokens[0] != tokens[1]
    assert all(len(token) >= 40 and "|" not in token for token in tokens)  # not `id|HMAC(id)`
    stored = set(db.session.scalars(sa.select(UserSession.remember_hash)))
    assert stored == {hashlib.sha256(token.encode()).hexdigest() for token in tokens}
    row = db.session.scalars(sa.select(UserSession)).first()
    assert row.user_agent and row.expires_at and row.last_seen_at


def test_a_remember_cookie_alone_signs_in_until_sign_out(app, client, make_user):
    user = make_user()
    sign_in(client, user.email, remember=True)
    remembered = cookie(client, "simfleet_remember")
    assert browser_with(app, simfleet_remember=remembered).get("/").status_code == 200
    response = client.post("/logout")
    assert any(c.startswith("simfleet_remember=;") for c in response.headers.getlist("Set-Cookie"))
    assert browser_with(app, simfleet_remember=remembered).get("/").status_code == 302


def test_the_old_user_id_remember_cookie_signs_nobody_in(app, make_user):
    user = make_user("admin")
    with app.test_request_context():
        forged = encode_cookie(str(user.id))  # Flask-Login's `user id | HMAC(user id)`
    assert browser_with(app, remember_token=forged).get("/").status_code == 302


@pytest.mark.parametrize("remember", [False, True])
def test_sign_out_everywhere_ends_every_session(app, client, make_user, remember):
    user = make_user()
    other = app.test_client()
    sign_in(other, user.email, remember=remember)
    copies = {"session": cookie(other, "session")}
    if remember:
        copies["simfleet_remember"] = cookie(other, "simfleet_remember")
    sign_in(client, user.email)
    assert client.post("/account/sign-out-everywhere").status_code == 303
    assert client.get("/").status_code == 302
    assert other.get("/").status_code == 302
    assert browser_with(app, **copies).get("/").status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UserSession)) == 0


def test_a_password_change_revokes_remember_tokens_elsewhere(app, client, make_user):
    user = make_user()
    other = app.test_client()
    sign_in(other, user.email, remember=True)
    remembered = cookie(other, "simfleet_remember")
    sign_in(client, user.email)
    new = "another long passphrase"
    response = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": new, "confirm": new},
    )
    assert response.status_code == 303
    assert browser_with(app, simfleet_remember=remembered).get("/").status_code == 302
    assert client.get("/").status_code == 200


def test_an_admin_sees_and_ends_a_users_sessions(app, client, login, make_user):
    user = make_user()
    victim = app.test_client()
    sign_in(victim, user.email, remember=True)
    login("admin")
    page = client.get(f"/admin/users/{user.id}/sessions")
    assert page.status_code == 200
    assert "werkzeug" in page.text.lower()  # the test client's user agent
    record = db.session.scalars(sa.select(UserSession).where(UserSession.user_id == user.id)).one()
    response = client.post(f"/admin/users/{user.id}/sessions/{record.id}/end")
    assert response.status_code == 303
    assert victim.get("/").status_code == 302
    assert "No live sessions" in client.get(f"/admin/users/{user.id}/sessions").text


def test_an_admin_ends_all_sessions_of_a_user(app, client, login, make_user):
    user = make_user()
    browsers = [app.test_client(), app.test_client()]
    for browser in browsers:
        sign_in(browser, user.email)
    login("admin")
    assert client.post(f"/admin/users/{user.id}/sessions/end").status_code == 303
    assert [b.get("/").status_code for b in browsers] == [302, 302]


def test_deactivation_ends_sessions_for_good(app, client, login, make_user):
    user = make_user()
    victim = app.test_client()
    sign_in(victim, user.email, remember=True)
    login("admin")
    client.post(f"/admin/users/{user.id}", data={"role": "viewer", "active": "0"})
    client.post(f"/admin/users/{user.id}", data={"role": "viewer", "active": "1"})
    assert victim.get("/").status_code == 302
