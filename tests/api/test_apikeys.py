"""Key lifecycle: list and revoke from the CLI, last use recorded at most once a minute, and
the per-process key cache: every committed change is seen on the next request."""

import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from webapp.api.auth import CACHE_EXTENSION, ApiCaller, CachedKey, KeyCache
from webapp.apikeys.services import create_api_key, revoke_api_key
from webapp.extensions import db
from webapp.models import ApiKey, AuditEvent
from webapp.models.base import utcnow


def test_revoke_from_the_cli(app, client, fleet):
    key, plaintext = create_api_key(name="script", scope="read")
    db.session.commit()
    headers = {"Authorization": f"Bearer {plaintext}"}
    assert client.get("/api/v1/sims", headers=headers).status_code == 200
    result = app.test_cli_runner().invoke(args=["apikeys", "revoke", key.prefix])
    assert result.exit_code == 0, result.output
    assert client.get("/api/v1/sims", headers=headers).status_code == 401
    assert db.session.scalar(
        sa.select(AuditEvent.action).where(AuditEvent.action == "apikey.revoke")
    )
    assert app.test_cli_runner().invoke(args=["apikeys", "revoke", "nosuchkey"]).exit_code != 0


def test_list_from_the_cli(app):
    create_api_key(name="reporting", scope="read")
    gone, _ = create_api_key(name="old job", scope="write")
    gone.revoked_at = utcnow()
    db.session.commit()
    output = app.test_cli_runner().invoke(args=["apikeys", "list"]).output
    assert "reporting" in output and "active" in output
    assert "old job" in output and "revoked" in output


def test_last_used_is_written_at_most_once_a_minute(app, client, fleet):
    key, plaintext = create_api_key(name="script", scope="read")
    db.session.commit()
    headers = {"X-API-Key": plaintext}

    def last_used():
        db.session.expire_all()
        return db.session.get(ApiKey, key.id).last_used_at

    client.get("/api/v1/sims", headers=headers)
    first = last_used()
    assert first is not None
    client.get("/api/v1/sims", headers=headers)
    assert last_used() == first
    # Two minutes later: the row says so, and this process's key cache has long expired.
    db.session.execute(
        sa.update(ApiKey)
        .where(ApiKey.id == key.id)
        .values(last_used_at=first - timedelta(minutes=2))
    )
    db.session.commit()
    app.extensions[CACHE_EXTENSION].clear()
    client.get("/api/v1/sims", headers=headers)
    assert last_used() > first - timedelta(minutes=1)


def test_a_cached_key_revoked_elsewhere_is_refused_at_once(app, make_app, fleet):
    # Two apps stand for two worker processes, each with its own key cache.
    key, plaintext = create_api_key(name="script", scope="write")
    db.session.commit()
    headers = {"Authorization": f"Bearer {plaintext}"}
    other = make_app().test_client()
    assert other.get("/api/v1/sims", headers=headers).status_code == 200
    revoke_api_key(prefix=key.prefix)
    db.session.commit()
    assert other.get("/api/v1/sims", headers=headers).status_code == 401


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"expires_at": utcnow() - timedelta(seconds=1)}, 401),
        ({"scope": "read"}, 403),
    ],
)
def test_a_cached_key_changed_through_the_orm_is_seen_at_once(client, fleet, change, status):
    key, plaintext = create_api_key(name="script", scope="write")
    db.session.commit()
    headers = {"Authorization": f"Bearer {plaintext}"}
    path = f"/api/v1/sims/{fleet}/reset"
    assert client.post(path, headers=headers, csrf=False).status_code == 503  # no 1NCE account
    for name, value in change.items():
        setattr(key, name, value)
    db.session.commit()
    assert client.post(path, headers=headers, csrf=False).status_code == status


def test_a_cached_key_expires_on_time():
    cache = KeyCache()
    caller = ApiCaller(key_id=1, name="script", prefix="abc", scope="read")
    for digest, expires_at in [(b"past", utcnow() - timedelta(seconds=1)), (b"future", None)]:
        entry = CachedKey(caller, expires_at, None, token=None, cached_at=time.monotonic())
        cache.put(digest, entry)
    assert cache.get(b"past") is None
    assert cache.get(b"future").caller == caller
