"""Configuration: typed parsing, defaults and the production refusals."""

import pytest

from webapp import create_app
from webapp.config import ConfigError, load_config

BASE = {"DATABASE_URL": "postgresql://db/simfleet", "REDIS_URL": "redis://cache:6379/0"}
STRONG_SECRET = "x" * 40


def test_defaults_for_development():
    config = load_config(BASE)
    assert config["APP_ENV"] == "development"
    assert config["ONCE_MAX_RPS"] == 8.0
    assert config["LOG_FORMAT"] == "text"
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://db/simfleet"
    assert config["SESSION_COOKIE_SECURE"] is False


def test_values_are_parsed_into_types():
    config = load_config({**BASE, "ONCE_MAX_RPS": "4.5", "API_DOCS_ENABLED": "yes"})
    assert config["ONCE_MAX_RPS"] == 4.5
    assert config["API_DOCS_ENABLED"] is True


@pytest.mark.parametrize(
    ("name", "value"),
    [("ONCE_MAX_RPS", "fast"), ("ONCE_MAX_RPS", "0"), ("APP_ENV", "staging"), ("DEBUG", "maybe")],
)
def test_invalid_values_name_the_setting(name, value):
    with pytest.raises(ConfigError, match=name):
        load_config({**BASE, name: value})


@pytest.mark.parametrize("missing", ["DATABASE_URL", "REDIS_URL"])
def test_servers_are_required(missing):
    env = {k: v for k, v in BASE.items() if k != missing}
    with pytest.raises(ConfigError, match=missing):
        load_config(env)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "SECRET_KEY must be set"),
        ({"SECRET_KEY": "short"}, "at least 32"),
        ({"SECRET_KEY": STRONG_SECRET, "DEBUG": "1"}, "DEBUG must be off"),
        ({"SECRET_KEY": STRONG_SECRET, "API_DOCS_ENABLED": "true"}, "API_DOCS_ENABLED"),
    ],
)
def test_production_refuses_weak_settings(env, message):
    with pytest.raises(ConfigError, match=message):
        load_config({**BASE, "APP_ENV": "production", **env})


def test_production_accepts_strong_settings():
    config = load_config({**BASE, "APP_ENV": "production", "SECRET_KEY": STRONG_SECRET})
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["LOG_FORMAT"] == "json"


def test_a_client_id_needs_its_secret():
    with pytest.raises(ConfigError, match="ONCE_CLIENT_SECRET"):
        load_config({**BASE, "ONCE_CLIENT_ID": "abc"})


def test_factory_applies_overrides(make_app):
    app = make_app(ONCE_MAX_RPS=3.0)
    assert app.config["ONCE_MAX_RPS"] == 3.0
    assert app.config["TESTING"] is True


def test_factory_refuses_to_start_in_production_with_a_weak_secret(settings):
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app({**settings, "APP_ENV": "production", "SECRET_KEY": "short", "TESTING": False})
