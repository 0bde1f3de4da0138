"""Key lifecycle: list and revoke from the CLI, last use recorded at most once a minute."""

from datetime import timedelta

import sqlalchemy as sa

from webapp.apikeys.services import create_api_key
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


def test_last_used_is_written_at_most_once_a_minute(client, fleet):
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
    db.session.execute(
        sa.update(ApiKey)
        .where(ApiKey.id == key.id)
        .values(last_used_at=first - timedelta(minutes=2))
    )
    db.session.commit()
    client.get("/api/v1/sims", headers=headers)
    assert last_used() > first - timedelta(minutes=1)
