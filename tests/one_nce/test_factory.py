"""`get_client()`: one client per app, built from the app's configuration."""

import pytest

from webapp import create_app
from webapp.extensions import get_client
from webapp.one_nce import OneNceClient, OneNceNotConfigured


def make_app(redis_url: str, **settings):
    """An app that never touches its database (the client needs only Redis)."""
    return create_app(
        {
            "APP_ENV": "testing",
            "DATABASE_URL": "postgresql://simfleet@127.0.0.1:9/unused",
            "REDIS_URL": redis_url,
            **settings,
        }
    )


def test_get_client_is_built_once_from_the_config(redis, redis_url, simulator):
    app = make_app(redis_url, **simulator.app_settings(max_rps=50.0))  # a v1 simulator
    iccid = simulator.fleet.iccids()[0]
    with app.app_context():
        client = get_client()
        assert isinstance(client, OneNceClient) and get_client() is client
        assert (client.base_url, client.api_version) == (simulator.url, "v1")
        assert client.get_sim(iccid).iccid == iccid


def test_get_client_without_credentials_says_so(redis_url):
    with (
        make_app(redis_url).app_context(),
        pytest.raises(OneNceNotConfigured, match="ONCE_CLIENT_ID"),
    ):
        get_client()
