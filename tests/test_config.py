"""Configuration: typed parsing, defaults and the production refusals."""

from datetime import timedelta

import pytest

from webapp import create_app
from webapp.config import DEVELOPMENT_SECRET_KEY, ConfigError, load_config

BASE = {"DATABASE_URL": "postgresql://db/simfleet", "REDIS_URL": "redis://cache:6379/0"}
# What `secrets.token_urlsafe(48)` and `secrets.token_hex(16)` print (fixed, so tests repeat).
STRONG_SECRET = "Vq3xJ8b_kR2nW7yLmT0aZ5cH9dF4gE1sP6uYtXoBiNlQjKwMrSvUe-CzDhAfGp2I"
HEX_SECRET = "9f86d081884c7d659a2feaa0c55ad015"
PRODUCTION = {**BASE, "APP_ENV": "production", "METRICS_TOKEN": "scrape-token"}


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
        ({"SECRET_KEY": DEVELOPMENT_SECRET_KEY}, "development default"),
        ({"SECRET_KEY": "x" * 64}, "too little entropy"),
        ({"SECRET_KEY": "ab" * 32}, "too little entropy"),
        ({"SECRET_KEY": "abc" * 12}, "too little entropy"),
        ({"SECRET_KEY": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab"}, "too little entropy"),
        ({"SECRET_KEY": STRONG_SECRET, "METRICS_TOKEN": ""}, "METRICS_TOKEN must be set"),
        ({"SECRET_KEY": STRONG_SECRET, "DEBUG": "1"}, "DEBUG must be off"),
        ({"SECRET_KEY": STRONG_SECRET, "API_DOCS_ENABLED": "true"}, "API_DOCS_ENABLED"),
    ],
)
def test_production_refuses_weak_settings(env, message):
    with pytest.raises(ConfigError, match=message):
        load_config({**PRODUCTION, **env})


@pytest.mark.parametrize("secret", [STRONG_SECRET, HEX_SECRET])
def test_production_accepts_strong_settings(secret):
    config = load_config({**PRODUCTION, "SECRET_KEY": secret})
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["LOG_FORMAT"] == "json"


def test_production_serves_metrics_without_a_token_only_when_told_to():
    config = load_config(
        {**PRODUCTION, "SECRET_KEY": STRONG_SECRET, "METRICS_TOKEN": "", "METRICS_PUBLIC": "true"}
    )
    assert config["METRICS_TOKEN"] is None
    assert config["METRICS_PUBLIC"] is True


def test_development_needs_no_metrics_token():
    assert load_config(BASE)["METRICS_TOKEN"] is None


def test_the_session_lifetime_follows_the_idle_timeout(make_app):
    assert load_config(BASE)["PERMANENT_SESSION_LIFETIME"] == timedelta(minutes=30)
    app = make_app(SESSION_IDLE_MINUTES=5)
    assert app.config["PERMANENT_SESSION_LIFETIME"] == timedelta(minutes=5)


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
