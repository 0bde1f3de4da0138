"""The session cookie lives as long as the idle timeout; signed-in pages are never cached."""

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest

from tests.conftest import CsrfClient
from tests.helpers import PASSWORD
from tests.test_access import ICCID


def session_cookie_expiry(response) -> datetime:
    """When the session cookie set by `response` expires."""
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    expires = next(part for part in cookie.split("; ") if part.startswith("Expires="))
    return parsedate_to_datetime(expires.removeprefix("Expires="))


@pytest.mark.parametrize("minutes", [30, 5])
def test_the_session_cookie_lasts_the_idle_timeout_not_31_days(make_app, make_user, minutes):
    app = make_app(SESSION_IDLE_MINUTES=minutes)
    app.test_client_class = CsrfClient
    user = make_user()
    before = datetime.now(UTC)
    response = app.test_client().post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 303
    lifetime = session_cookie_expiry(response) - before
    # Whole minutes: the cookie's date has a resolution of one second.
    assert timedelta(minutes=minutes - 1) < lifetime <= timedelta(minutes=minutes, seconds=1)


@pytest.mark.parametrize(
    "path", ["/", "/sims", f"/sims/{ICCID}", "/sims/export.csv", "/admin/users", "/bulk"]
)
def test_pages_for_signed_in_users_are_not_stored(client, login, make_sim, path):
    make_sim(iccid=ICCID)
    login("admin")
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_static_files_and_the_api_keep_their_caching(attacker):
    with attacker.get("/static/favicon.svg") as static:
        assert "no-store" not in static.headers.get("Cache-Control", "")
    api = attacker.get("/api/v1/sims")
    assert api.headers["Cache-Control"] == "private, no-cache"
