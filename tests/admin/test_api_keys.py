"""The API keys page: list, create (the key shown exactly once), revoke after confirming."""

import re
from datetime import timedelta

import sqlalchemy as sa

from webapp.apikeys.services import create_api_key
from webapp.extensions import db
from webapp.models import ApiKey, AuditEvent
from webapp.models.base import utcnow

KEY = re.compile(r"sf_[0-9a-f]{12}_[A-Za-z0-9_-]{43}")
XSS = '<script>alert("k")</script>'


def create(client, **data):
    return client.post("/admin/api-keys", data={"name": "script", "scope": "read", **data})


def audit_events(action: str) -> list[AuditEvent]:
    query = sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    return list(db.session.scalars(query))


def test_a_new_key_is_shown_once_and_never_stored(client, login):
    admin = login("admin")
    response = create(client, name="billing export", scope="write", expires_days="30")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "you will not see it again" in response.text
    assert 'data-copy="new-key"' in response.text
    plaintext = KEY.search(response.text).group()

    key = db.session.scalar(sa.select(ApiKey))
    assert (key.name, key.scope, key.created_by_id) == ("billing export", "write", admin.id)
    assert key.expires_at - utcnow() > timedelta(days=29)
    secret = plaintext.split("_", 2)[2]
    assert secret not in key.secret_hash
    event = audit_events("apikey.create")[-1]
    assert event.actor_id == admin.id
    assert secret not in f"{event.target} {event.details}"

    listing = client.get("/admin/api-keys").text
    assert f"sf_{key.prefix}_" in listing
    assert secret not in listing
    assert admin.email in listing


def test_the_new_key_works_until_it_is_revoked(client, login):
    login("admin")
    plaintext = KEY.search(create(client).text).group()
    prefix = plaintext.split("_")[1]
    headers = {"Authorization": f"Bearer {plaintext}"}
    assert client.get("/api/v1/sims", headers=headers).status_code == 200

    confirm = client.get(f"/admin/api-keys/{prefix}/revoke")
    assert "Revoke the key" in confirm.text
    assert f'action="/admin/api-keys/{prefix}/revoke"' in confirm.text
    assert client.get("/api/v1/sims", headers=headers).status_code == 200  # asking is not doing

    response = client.post(f"/admin/api-keys/{prefix}/revoke")
    assert response.status_code == 303
    assert client.get("/api/v1/sims", headers=headers).status_code == 401
    assert audit_events("apikey.revoke")[-1].target == f"script ({prefix})"
    listing = client.get("/admin/api-keys").text
    assert "revoked" in listing
    assert f"/admin/api-keys/{prefix}/revoke" not in listing


def test_htmx_create_and_revoke(client, login):
    login("admin")
    htmx = {"HX-Request": "true"}
    response = client.post("/admin/api-keys", data={"name": "h", "scope": "read"}, headers=htmx)
    assert "<html" not in response.text
    assert KEY.search(response.text)
    prefix = db.session.scalar(sa.select(ApiKey.prefix))
    response = client.post(f"/admin/api-keys/{prefix}/revoke", headers=htmx)
    assert response.headers["HX-Redirect"] == "/admin/api-keys"


def test_the_list_shows_each_keys_state(client, login):
    login("admin")
    create_api_key(name="cli key", scope="read")
    expired, _ = create_api_key(name="old key", scope="read", expires_days=1)
    expired.expires_at = utcnow() - timedelta(minutes=1)
    used, _ = create_api_key(name="busy key", scope="write")
    used.last_used_at = utcnow() - timedelta(hours=2)
    db.session.commit()
    page = client.get("/admin/api-keys").text
    assert "the command line" in page
    assert '<span class="badge">expired</span>' in page
    assert "2 h ago" in page
    assert page.count('badge badge-success">active') == 2


def test_invalid_keys_are_refused(client, login):
    login("admin")
    for data, message in [
        ({"name": ""}, "This field is required"),
        ({"name": "x" * 101}, "longer than 100"),
        ({"scope": "admin"}, "Not a valid choice"),
        ({"expires_days": "0"}, "between 1 and 3650"),
        ({"expires_days": "soon"}, "Not a valid integer"),
    ]:
        response = create(client, **data)
        assert response.status_code == 422, data
        assert message in response.text
        assert not KEY.search(response.text)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiKey)) == 0


def test_revoking_an_unknown_key_is_404(client, login):
    login("admin")
    assert client.get("/admin/api-keys/000000000000/revoke").status_code == 404
    assert client.post("/admin/api-keys/000000000000/revoke").status_code == 404


def test_key_names_are_escaped(client, login):
    login("admin")
    created = create(client, name=XSS)
    prefix = db.session.scalar(sa.select(ApiKey.prefix))
    pages = [
        created.text,
        client.get("/admin/api-keys").text,
        client.get(f"/admin/api-keys/{prefix}/revoke").text,
        client.post(f"/admin/api-keys/{prefix}/revoke", follow_redirects=True).text,
    ]
    for page in pages:
        assert XSS not in page
        assert "&lt;script&gt;" in page
