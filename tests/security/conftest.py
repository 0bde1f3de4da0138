"""Fixtures of the security tests: an admin session that also carries a write API key."""

import pytest

from tests.test_access import ICCID
from webapp.apikeys.services import create_api_key
from webapp.extensions import db


@pytest.fixture
def attacker(client, login, make_sim):
    """The test client signed in as an admin, with a write key's header for the API routes.

    The strongest caller reaches the most code: a refusal at the edge must not depend on a
    role or key check stopping the request first.
    """
    make_sim(iccid=ICCID)
    login("admin")
    _, key = create_api_key(name="attacker", scope="write")
    db.session.commit()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    return client
