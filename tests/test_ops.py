"""Health checks, metrics, the request log line and security headers."""

import json
import logging
from datetime import date

import pytest
import sqlalchemy as sa

from tests.helpers import PASSWORD, eventually
from webapp.extensions import db
from webapp.ops.services import record_heartbeat
from webapp.sync.services import get_api_version


def test_health(client):
    response = client.get("/health")
    assert (response.status_code, response.json) == (200, {"status": "ok"})
    assert client.get("/health/live").status_code == 200


def test_ready_when_everything_answers(client):
    record_heartbeat()
    response = client.get("/health/ready")
    assert response.status_code == 200
    body = response.json
    assert body["status"] == "ok"
    assert body["checks"] == {"database": {"status": "ok"}, "redis": {"status": "ok"}}
    assert body["worker"]["age_seconds"] <= 5
    assert body["once_api"] == {"version": "v2"}


def test_ready_flags_a_configuration_still_on_v1(make_app):
    app = make_app(ONCE_API_VERSION="v1")
    body = app.test_client().get("/health/ready").json
    assert body["once_api"]["version"] == "v1"
    assert body["once_api"]["v1_retires_on"] == "2026-12-31"
    assert "ONCE_API_VERSION=v2" in body["once_api"]["advice"]


def test_v1_is_counted_down_then_retired(app):
    app.config["ONCE_API_VERSION"] = "v1"
    assert get_api_version(today=date(2026, 12, 4))["days_left"] == 27
    assert get_api_version(today=date(2026, 12, 31))["retired"] is False
    assert get_api_version(today=date(2027, 1, 1))["retired"] is True


def test_not_ready_without_redis(make_app):
    app = make_app(REDIS_URL="redis://127.0.0.1:1/0")
    response = app.test_client().get("/health/ready")
    assert response.status_code == 503
    assert response.json["checks"]["redis"]["status"] == "fail"
    assert response.json["checks"]["database"]["status"] == "ok"


def test_not_ready_without_postgres(make_app):
    app = make_app(DATABASE_URL="postgresql://postgres@127.0.0.1:1/none")
    response = app.test_client().get("/health/ready")
    assert response.status_code == 503
    assert response.json["checks"]["database"]["status"] == "fail"


def test_not_ready_when_schema_is_behind(client):
    (version,) = db.session.execute(sa.text("SELECT version_num FROM alembic_version")).one()
    db.session.execute(sa.text("UPDATE alembic_version SET version_num = 'old'"))
    db.session.commit()
    try:
        response = client.get("/health/ready")
        assert response.status_code == 503
        assert "migrations head" in response.json["checks"]["database"]["error"]
    finally:
        db.session.execute(sa.text("UPDATE alembic_version SET version_num = :v"), {"v": version})
        db.session.commit()


def test_metrics_in_prometheus_format(client):
    client.get("/health")
    client.get("/login")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    assert (
        'simfleet_http_request_duration_seconds_count{method="GET",route="/login",status="200"}'
        in response.text
    )
    assert 'route="/health"' not in response.text  # probes are not counted
    assert client.get("/api/v1/metrics").text.startswith("# HELP")


@pytest.fixture
def metrics_token(settings):
    settings["METRICS_TOKEN"] = "scrape-token-123"


def test_metrics_token(metrics_token, client):
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    ok = client.get("/metrics", headers={"Authorization": "Bearer scrape-token-123"})
    assert ok.status_code == 200
    assert client.get("/api/v1/metrics").status_code == 401


def test_security_headers(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_pages_have_no_inline_scripts(client, login):
    login("admin")
    for path in ("/login", "/", "/sims", "/alerts", "/admin/users"):
        text = client.get(path).text
        assert "<script>" not in text
        assert " on" + "click=" not in text


def test_request_id_is_echoed_or_made(client):
    assert client.get("/health", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == (
        "abc-123"
    )
    made = client.get("/health", headers={"X-Request-ID": "bad id!"}).headers["X-Request-ID"]
    assert len(made) == 32


@pytest.fixture
def json_logs(settings):
    settings["LOG_FORMAT"] = "json"


def test_one_json_log_line_per_request_without_secrets(capfd, json_logs, client, make_user):
    user = make_user()
    capfd.readouterr()
    client.post(
        "/login",
        data={"email": user.email, "password": PASSWORD},
        headers={"X-Request-ID": "req-42", "Authorization": "Bearer secret-token-xyz"},
    )
    err = capfd.readouterr().err
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    request_lines = [line for line in lines if line["logger"] == "simfleet.request"]
    assert len(request_lines) == 1
    line = request_lines[0]
    assert (line["method"], line["path"], line["status"]) == ("POST", "/login", 303)
    assert line["request_id"] == "req-42"
    assert line["user_id"] == str(user.id)
    assert isinstance(line["duration_ms"], float)
    everything = json.dumps(lines)
    assert PASSWORD not in everything
    assert "secret-token-xyz" not in everything


def test_log_redaction_masks_secrets(capfd, app):
    logging.getLogger("simfleet.test").warning(
        "calling with Authorization: Bearer abc.def.ghi and password=hunter2"
    )
    err = capfd.readouterr().err
    assert "abc.def.ghi" not in err
    assert "hunter2" not in err


def test_connections_the_server_closed_are_replaced(app, client, make_user):
    # A database restart ends every pooled session: the next requests reconnect, no 500.
    make_user()
    with db.engine.connect() as conn:
        pooled = conn.scalar(sa.text("SELECT pg_backend_pid()"))
    killer = sa.create_engine(db.engine.url, poolclass=sa.pool.NullPool)
    with killer.connect() as conn:
        assert conn.scalar(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pooled})
        gone = sa.text("SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = :pid)")

        def backend_gone() -> bool:
            # A new transaction each time: one keeps its first snapshot of pg_stat_activity.
            exited = conn.scalar(gone, {"pid": pooled})
            conn.rollback()
            return exited

        # Until the backend has exited and closed its socket.
        eventually(backend_gone, timeout=10, interval=0.02)
    killer.dispose()
    with db.engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT pg_backend_pid()")) != pooled
    assert client.get("/health/ready").status_code == 200
