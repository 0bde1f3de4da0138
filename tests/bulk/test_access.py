"""Who may use bulk actions: operators and admins; viewers get 403 and see no bulk bar."""

import pytest
from flask import render_template
from flask_login import login_user

from webapp.extensions import db
from webapp.models import BulkJob, User

ROUTES = [
    ("GET", "/bulk"),
    ("POST", "/bulk/preview"),
    ("POST", "/bulk"),
    ("GET", "/bulk/1"),
    ("POST", "/bulk/1/resume"),
]
EXPECTED = {"anonymous": "login", "viewer": 403, "operator": "allowed", "admin": "allowed"}


@pytest.fixture
def job(app, make_user):
    """A failed bulk job with id 1, so every route has something to act on."""
    owner = make_user("operator")
    row = BulkJob(
        user_id=owner.id,
        actor=owner.email,
        action="enable",
        values={},
        scope="All SIMs",
        selection={"view_args": {}},
        state="failed",
        total=0,
    )
    db.session.add(row)
    db.session.commit()
    return row


@pytest.mark.parametrize("role", EXPECTED)
@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_access_matrix(client, login, job, role, method, path):
    if role != "anonymous":
        login(role)
    response = client.open(path, method=method, data={"action": "enable", "scope": "all"})
    expected = EXPECTED[role]
    if expected == "login":
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")
    elif expected == 403:
        assert response.status_code == 403
    else:
        assert response.status_code in (200, 303), response.text


def test_actions_need_a_csrf_token(client, login, make_sim):
    login("operator")
    sim = make_sim()
    form = {"action": "disable", "scope": "selected", "iccid": sim.iccid}
    assert client.post("/bulk", data=form, csrf=False).status_code == 400
    assert client.post("/bulk/preview", data=form, csrf=False).status_code == 400
    assert db.session.query(BulkJob).count() == 0


def render_bar(app, user: User, view_args: dict, total: int | None) -> str:
    """The bar as the inventory page includes it (that page is another engineer's)."""
    with app.test_request_context("/sims"):
        login_user(user)
        return render_template("bulk/_bar.html", view_args=view_args, total=total)


def test_the_bar_is_for_operators_only(app, make_user):
    assert render_bar(app, make_user("viewer"), {"status": "Enabled"}, 12).strip() == ""


def test_the_bar_carries_the_view_and_escapes_it(app, make_user):
    view_args = {"q": '"><script>x</script>', "status": "", "cursor": "abc"}
    html = render_bar(app, make_user("operator"), view_args, 1234)
    assert 'id="bulk-form"' in html and 'action="/bulk/preview"' in html
    assert 'name="csrf_token"' in html
    assert 'name="filter.q" value="&#34;&gt;&lt;script&gt;x&lt;/script&gt;"' in html
    assert "filter.status" not in html and "cursor" not in html
    assert "All 1,234 SIMs matching this view" in html
    for action in ("enable", "disable", "label", "topup"):
        assert f'value="{action}"' in html
