"""Fixtures of the API tests: a generated fleet, keys of every kind, and request helpers."""

from datetime import timedelta

import pytest

from devtools.generate_fleet import first_iccid, load_fleet
from webapp.apikeys.services import create_api_key, revoke_api_key
from webapp.extensions import db
from webapp.models.base import utcnow


@pytest.fixture
def make_fleet(app):
    """Insert generated SIMs set-based: make_fleet(sims=..., usage_days=...) -> account id."""

    def make(sims: int = 20, usage_days: int = 0) -> int:
        account_id = load_fleet(db.session.connection(), sims=sims, usage_days=usage_days)
        db.session.commit()
        return account_id

    return make


@pytest.fixture
def fleet(make_fleet):
    """Twenty SIMs with ten days of usage; returns the first ICCID."""
    make_fleet(sims=20, usage_days=10)
    return first_iccid()


@pytest.fixture
def keys(app):
    """Authorization headers for a read, write, revoked and expired key, and none at all."""
    _, read = create_api_key(name="reader", scope="read")
    _, write = create_api_key(name="writer", scope="write")
    revoked_key, revoked = create_api_key(name="gone", scope="write")
    expired_key, expired = create_api_key(name="old", scope="write", expires_days=1)
    revoke_api_key(prefix=revoked_key.prefix)
    expired_key.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    return {
        "none": {},
        "read": bearer(read),
        "write": bearer(write),
        "revoked": bearer(revoked),
        "expired": bearer(expired),
    }


def bearer(key: str) -> dict:
    """The Authorization header for `key`."""
    return {"Authorization": f"Bearer {key}"}
