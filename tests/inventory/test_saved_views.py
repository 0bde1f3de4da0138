"""Saved views: named filter sets per user; saving and deleting are audited."""

import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import AuditEvent, SavedView


def audit_actions() -> list[tuple[str, str]]:
    return [
        (e.action, e.target)
        for e in db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id))
        if e.action.startswith("saved_view.")
    ]


def test_save_open_and_delete_a_view(client, login):
    user = login("viewer")
    response = client.post(
        "/sims/views",
        data={"name": "Low in Spain", "query": "country=Spain&quota_state=low&cursor=abc&x=1"},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/sims?quota_state=low&country=Spain"
    view = db.session.scalar(sa.select(SavedView))
    assert (view.user_id, view.name, view.query) == (
        user.id,
        "Low in Spain",
        "quota_state=low&country=Spain",
    )
    page = client.get("/sims").text
    assert 'href="/sims?quota_state=low&amp;country=Spain">Low in Spain</a>' in page
    assert client.post(f"/sims/views/{view.id}/delete").status_code == 303
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SavedView)) == 0
    assert audit_actions() == [
        ("saved_view.save", "Low in Spain"),
        ("saved_view.delete", "Low in Spain"),
    ]


def test_saving_under_an_existing_name_replaces_the_view(client, login):
    login("viewer")
    client.post("/sims/views", data={"name": "Mine", "query": "online=true"})
    client.post("/sims/views", data={"name": "Mine", "query": "online=false"})
    views = list(db.session.scalars(sa.select(SavedView)))
    assert [(v.name, v.query) for v in views] == [("Mine", "online=false")]


def test_a_view_needs_a_name(client, login):
    login("viewer")
    response = client.post("/sims/views", data={"name": "  ", "query": "online=true"})
    assert response.status_code == 303
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SavedView)) == 0
    assert "needs a name" in client.get(response.headers["Location"]).text


def test_views_are_per_user(client, login, make_user):
    login("viewer")
    client.post("/sims/views", data={"name": "Mine", "query": "online=true"})
    view = db.session.scalar(sa.select(SavedView))
    client.post("/logout")
    login("admin")
    assert "Mine" not in client.get("/sims").text
    assert client.post(f"/sims/views/{view.id}/delete").status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SavedView)) == 1


def test_saving_needs_csrf(client, login):
    login("viewer")
    response = client.post("/sims/views", data={"name": "x", "query": ""}, csrf=False)
    assert response.status_code == 400
