"""Times as people read them: a date beyond a month, the user's time zone, UTC on hover."""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import AuditEvent, User
from webapp.pages import RELATIVE_HORIZON, clock, moment_of, timeago

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
KOLKATA = ZoneInfo("Asia/Kolkata")


@pytest.mark.parametrize(
    ("ago", "text"),
    [
        (timedelta(seconds=20), "just now"),
        (timedelta(minutes=12), "12 min ago"),
        (timedelta(hours=3), "3 h ago"),
        (timedelta(days=1), "1 day ago"),
        (RELATIVE_HORIZON, "30 days ago"),
        # Beyond 30 days a moment reads as its date: "1485 days ago" is hard to place.
        (RELATIVE_HORIZON + timedelta(hours=1), "2026-11-05"),
        (timedelta(days=1485), "2022-11-11"),
    ],
)
def test_timeago_says_a_date_beyond_the_horizon(ago, text):
    assert timeago(NOW - ago, now=NOW, zone=UTC) == text


def test_a_date_and_a_clock_follow_the_zone():
    late = datetime(2026, 12, 4, 20, 30, tzinfo=UTC)  # already the 5th in Kolkata
    assert timeago(late - timedelta(days=40), now=NOW, zone=KOLKATA) == "2026-10-26"
    assert clock(late, now=NOW, zone=UTC) == "2026-12-04 20:30"
    assert clock(late, now=NOW, zone=KOLKATA) == "02:00"


def test_a_moment_keeps_utc_for_machines_and_on_hover(app):
    moment = datetime(2026, 12, 4, 20, 30, 15, 123456, tzinfo=KOLKATA)
    with app.test_request_context():
        tag = moment_of(moment, "seconds", now=NOW)
        assert tag.iso == "2026-12-04T15:00:15Z"
        assert tag.title == "2026-12-04 15:00:15 UTC"
        assert (tag.style, tag.text) == ("seconds", "2026-12-04 15:00:15")
        old = moment_of(NOW - timedelta(days=400), "ago", now=NOW)
        assert (old.style, old.text) == ("date", "2025-10-31")
        assert moment_of(NOW - timedelta(days=2), "ago", now=NOW).style == "ago"


def time_tags(html: str) -> list[tuple[str, str, str, str]]:
    """Every <time data-time> of a page: (datetime, title, style, text)."""
    pattern = r'<time datetime="([^"]+)" title="([^"]+)" data-time="([^"]+)">([^<]*)</time>'
    return re.findall(pattern, html)


def test_pages_write_times_in_the_users_zone_with_utc_on_hover(client, login, make_sim):
    user = login("viewer")
    seen = datetime.now(UTC) - timedelta(days=400)
    make_sim(last_seen_at=seen)
    page = client.get("/sims").text
    assert 'name="time-zone"' not in page  # no choice: the browser's zone, UTC without JS
    (tag,) = [t for t in time_tags(page) if t[0] == seen.isoformat(timespec="seconds")[:-6] + "Z"]
    assert tag[1] == seen.strftime("%Y-%m-%d %H:%M:%S UTC")
    assert (tag[2], tag[3]) == ("date", seen.strftime("%Y-%m-%d"))

    response = client.post("/account/time-zone", data={"time_zone": "Pacific/Kiritimati"})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(User, user.id).time_zone == "Pacific/Kiritimati"
    page = client.get("/sims").text
    assert '<meta name="time-zone" content="Pacific/Kiritimati">' in page
    (tag,) = [t for t in time_tags(page) if t[1] == seen.strftime("%Y-%m-%d %H:%M:%S UTC")]
    assert tag[3] == seen.astimezone(ZoneInfo("Pacific/Kiritimati")).strftime("%Y-%m-%d")


def test_the_account_page_sets_and_clears_the_time_zone(client, login):
    user = login("viewer")
    page = client.get("/account").text
    assert "Show times in" in page and '<option value="Europe/Berlin">' in page
    assert client.post("/account/time-zone", data={"time_zone": "Europe/Berlin"}).status_code == 303
    assert "Europe/Berlin" in client.get("/account").text
    assert client.post("/account/time-zone", data={"time_zone": ""}).status_code == 303
    db.session.expire_all()
    assert db.session.get(User, user.id).time_zone is None
    changes = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "auth.time_zone").order_by(AuditEvent.id)
    ).all()
    assert [c.details for c in changes] == [
        {"from": None, "to": "Europe/Berlin"},
        {"from": "Europe/Berlin", "to": None},
    ]


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "../../etc/passwd", "x" * 80])
def test_an_unknown_time_zone_is_refused(client, login, zone):
    user = login("viewer")
    response = client.post("/account/time-zone", data={"time_zone": zone})
    assert response.status_code == 422
    assert "Not a valid choice" in response.text
    db.session.expire_all()
    assert db.session.get(User, user.id).time_zone is None
