"""Settings from the environment, parsed into typed values and validated at factory time."""

import math
import os
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

ENVIRONMENTS = ("development", "production", "testing")
MIN_SECRET_LENGTH = 32
# Shannon entropy of the key's own characters times its length: 32 random hex digits measure
# about 95 bits, a repeated character 0, a few characters repeated far below this.
MIN_SECRET_BITS = 80
DEVELOPMENT_SECRET_KEY = "development-only-secret-key-do-not-deploy"
# Request bodies: 1 MB; multipart text parts and part count (Werkzeug 3.1's form limits).
MAX_REQUEST_BYTES = 1024 * 1024
MAX_FORM_MEMORY_BYTES = 64 * 1024
MAX_FORM_PARTS = 1000


class ConfigError(RuntimeError):
    """A setting is missing or invalid; the message says which and why."""


def parse_bool(raw: str) -> bool:
    """Parse the usual spellings of a boolean environment value."""
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"expected true or false, got {raw!r}")


def parse_positive_float(raw: str) -> float:
    """Parse a number greater than zero."""
    value = float(raw)
    if value <= 0:
        raise ValueError(f"must be greater than 0, got {raw!r}")
    return value


def parse_non_negative_float(raw: str) -> float:
    """Parse a number of zero or more."""
    value = float(raw)
    if not value >= 0:  # refuses NaN too
        raise ValueError(f"must be 0 or more, got {raw!r}")
    return value


def parse_non_negative_int(raw: str) -> int:
    """Parse a whole number of zero or more."""
    value = int(raw)
    if value < 0:
        raise ValueError(f"must be 0 or more, got {raw!r}")
    return value


def parse_positive_int(raw: str) -> int:
    """Parse a whole number of one or more."""
    value = int(raw)
    if value < 1:
        raise ValueError(f"must be 1 or more, got {raw!r}")
    return value


def parse_choice(*choices: str) -> Callable[[str], str]:
    """Build a parser that accepts only the given values."""

    def parse(raw: str) -> str:
        if raw not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}, got {raw!r}")
        return raw

    return parse


# name: (parser, default). A default of None means "not set"; required secrets have none.
SETTINGS: dict[str, tuple[Callable[[str], Any], Any]] = {
    "APP_ENV": (parse_choice(*ENVIRONMENTS), "development"),
    "SECRET_KEY": (str, None),
    "DEBUG": (parse_bool, False),
    "DATABASE_URL": (str, None),
    "REDIS_URL": (str, None),
    "ONCE_API_URL": (str, "https://api.1nce.com/management-api"),
    "ONCE_CLIENT_ID": (str, None),
    "ONCE_CLIENT_SECRET": (str, None),
    # v1 is retired by 1NCE on 2026-12-31; it stays selectable until then.
    "ONCE_API_VERSION": (parse_choice("v2", "v1"), "v2"),
    "ONCE_MAX_RPS": (parse_positive_float, 8.0),
    "ONCE_CONNECT_TIMEOUT": (parse_positive_float, 5.0),
    "ONCE_READ_TIMEOUT": (parse_positive_float, 30.0),
    "METRICS_TOKEN": (str, None),
    # Production serves /metrics without METRICS_TOKEN only when this says so on purpose.
    "METRICS_PUBLIC": (parse_bool, False),
    "API_DOCS_ENABLED": (parse_bool, False),
    # Per API key, in Flask-Limiter notation; writes count against both limits.
    "API_RATE_LIMIT": (str, "600 per minute"),
    "API_WRITE_RATE_LIMIT": (str, "60 per minute"),
    "LOG_FORMAT": (parse_choice("json", "text"), None),
    "LOG_LEVEL": (parse_choice("DEBUG", "INFO", "WARNING", "ERROR"), "INFO"),
    "LOGIN_LIMIT_PER_IP": (str, "20 per minute"),
    # Failed sign-ins per account and source (an address, or a device that signed in before).
    "LOGIN_LIMIT_PER_ACCOUNT": (str, "5 per minute;20 per hour"),
    # Failed sign-ins per account from all devices that never signed in to it together.
    "LOGIN_LIMIT_PER_ACCOUNT_NEW_DEVICES": (str, "100 per hour"),
    "RATELIMIT_ENABLED": (parse_bool, True),
    "SESSION_IDLE_MINUTES": (parse_positive_int, 30),
    # A request that waited longer for a Gunicorn thread is answered 503 (0: never).
    "WEB_QUEUE_LIMIT_SECONDS": (parse_non_negative_float, 10.0),
    "REMEMBER_DAYS": (parse_non_negative_int, 7),
    "HEARTBEAT_SECONDS": (parse_non_negative_int, 60),
    "PROXY_HOPS": (parse_non_negative_int, 0),
    # Sync intervals in minutes (0 disables a kind), chunk size, retention in days (0 keeps all).
    "SYNC_INVENTORY_MINUTES": (parse_non_negative_int, 15),
    "SYNC_USAGE_MINUTES": (parse_non_negative_int, 30),
    "SYNC_QUOTAS_MINUTES": (parse_non_negative_int, 60),
    "SYNC_EVENTS_MINUTES": (parse_non_negative_int, 60),
    "SYNC_CONNECTIVITY_MINUTES": (parse_non_negative_int, 60),
    "SYNC_CHUNK_SIMS": (parse_positive_int, 200),
    # A full evaluation of the alert rules every this many minutes (0: only after sync chunks).
    "ALERTS_EVALUATE_MINUTES": (parse_non_negative_int, 5),
    # Multiplies the delays before a failed job's retries (30 s, 2 min, 5 min); tests shorten.
    "JOB_RETRY_SCALE": (parse_positive_float, 1.0),
    # A sync run's or bulk job's lock outlives a killed process by at most this (tests shorten).
    "RUN_LOCK_SECONDS": (parse_positive_int, 60),
    # What 1NCE keeps (6 months), and two years of our own (more than 1NCE).
    "USAGE_BACKFILL_DAYS": (parse_positive_int, 183),
    "USAGE_RETENTION_DAYS": (parse_non_negative_int, 730),
    "EVENT_RETENTION_DAYS": (parse_non_negative_int, 30),
    # Records that would otherwise grow without end, kept this many days after they settle.
    "SYNC_RUN_RETENTION_DAYS": (parse_non_negative_int, 90),
    "SIM_CHANGE_RETENTION_DAYS": (parse_non_negative_int, 365),
    "SIM_ACTION_RETENTION_DAYS": (parse_non_negative_int, 365),
    "BULK_JOB_RETENTION_DAYS": (parse_non_negative_int, 365),
    "AUDIT_RETENTION_DAYS": (parse_non_negative_int, 730),
}


def load_config(environ: Mapping[str, str], overrides: Mapping[str, Any] | None = None) -> dict:
    """Read every setting from `environ`, apply `overrides`, and validate the result."""
    config: dict[str, Any] = {}
    for name, (parse, default) in SETTINGS.items():
        raw = environ.get(name)
        if raw is None or raw == "":
            config[name] = default
            continue
        try:
            config[name] = parse(raw)
        except ValueError as exc:
            raise ConfigError(f"{name}: {exc}") from None
    config.update(overrides or {})
    _derive(config)
    _validate(config)
    return config


def _derive(config: dict) -> None:
    """Fill the settings that follow from others, and the Flask names for ours."""
    env = config["APP_ENV"]
    config.setdefault("TESTING", env == "testing")
    if config["LOG_FORMAT"] is None:
        config["LOG_FORMAT"] = "json" if env == "production" else "text"
    if env != "production" and not config["SECRET_KEY"]:
        # Development and tests run without ceremony; production must set its own.
        config["SECRET_KEY"] = DEVELOPMENT_SECRET_KEY
    config.setdefault("SQLALCHEMY_DATABASE_URI", _sqlalchemy_url(config["DATABASE_URL"]))
    config.setdefault(
        "SQLALCHEMY_ENGINE_OPTIONS",
        # UTC sessions: timestamps rendered by PostgreSQL (JSON, text) come out in UTC. No
        # pre-ping: webapp.extensions.drop_closed_connections finds dead connections cheaper.
        # A server that does not answer fails a connection attempt after 5 s (an error page)
        # rather than after the kernel's TCP timeout, minutes past Gunicorn's worker timeout.
        {"connect_args": {"options": "-c timezone=UTC", "connect_timeout": 5}},
    )
    config.setdefault("RATELIMIT_STORAGE_URI", config["REDIS_URL"])
    config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    # Our dict has no Flask defaults yet, so these apply (app.config.setdefault would not).
    config.setdefault(
        "PERMANENT_SESSION_LIFETIME", timedelta(minutes=config["SESSION_IDLE_MINUTES"])
    )
    config.setdefault("MAX_CONTENT_LENGTH", MAX_REQUEST_BYTES)
    config.setdefault("MAX_FORM_MEMORY_SIZE", MAX_FORM_MEMORY_BYTES)
    config.setdefault("MAX_FORM_PARTS", MAX_FORM_PARTS)
    config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    config.setdefault("SESSION_COOKIE_SECURE", env == "production")
    config.setdefault("REMEMBER_COOKIE_HTTPONLY", True)
    config.setdefault("REMEMBER_COOKIE_SAMESITE", "Lax")
    config.setdefault("REMEMBER_COOKIE_SECURE", env == "production")
    config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    config.setdefault("ONCE_CONFIGURED", bool(config["ONCE_CLIENT_ID"]))


def _sqlalchemy_url(url: str | None) -> str | None:
    """Point plain postgres URLs at the psycopg 3 driver."""
    if url is None:
        return None
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _validate(config: dict) -> None:
    """Refuse settings that cannot work, and weak ones in production."""
    for name in ("DATABASE_URL", "REDIS_URL"):
        if not config[name]:
            raise ConfigError(f"{name} is required (`make demo` starts embedded servers for you)")
    if config["ONCE_CLIENT_ID"] and not config["ONCE_CLIENT_SECRET"]:
        raise ConfigError("ONCE_CLIENT_SECRET is required when ONCE_CLIENT_ID is set")
    if config["APP_ENV"] != "production":
        return
    _validate_secret_key(config["SECRET_KEY"] or "")
    if not config["METRICS_TOKEN"] and not config["METRICS_PUBLIC"]:
        raise ConfigError(
            "METRICS_TOKEN must be set in production (Prometheus sends it as a bearer token),"
            " or METRICS_PUBLIC=true to serve /metrics to anyone on purpose"
        )
    if config["DEBUG"]:
        raise ConfigError("DEBUG must be off in production")
    if config["API_DOCS_ENABLED"]:
        raise ConfigError("API_DOCS_ENABLED must be off in production")


def _validate_secret_key(secret: str) -> None:
    """Refuse a production SECRET_KEY that is short, the development one, or hardly random."""
    advice = ' (python -c "import secrets; print(secrets.token_urlsafe(48))")'
    if len(secret) < MIN_SECRET_LENGTH:
        raise ConfigError(
            f"SECRET_KEY must be set to at least {MIN_SECRET_LENGTH} random characters in"
            " production" + advice
        )
    if secret == DEVELOPMENT_SECRET_KEY:
        raise ConfigError("SECRET_KEY is the development default; set a random one" + advice)
    if secret_key_bits(secret) < MIN_SECRET_BITS:
        raise ConfigError(
            "SECRET_KEY has too little entropy (too few distinct characters, or one repeated);"
            " set a random one" + advice
        )


def secret_key_bits(secret: str) -> float:
    """An upper estimate of a key's entropy: its characters' Shannon entropy times its length."""
    counts = Counter(secret).values()
    return -sum(n * math.log2(n / len(secret)) for n in counts)


def config_from_environment(overrides: Mapping[str, Any] | None = None) -> dict:
    """Load the configuration from the process environment (and `.env` in development)."""
    if os.environ.get("APP_ENV", "development") == "development":
        from dotenv import load_dotenv

        load_dotenv()
    return load_config(os.environ, overrides)
