"""The `flask --app wsgi users|apikeys` commands."""

import sqlalchemy as sa

from webapp.apikeys.services import find_api_key
from webapp.extensions import db
from webapp.models import ApiKey, User


def test_create_user(app):
    result = app.test_cli_runner().invoke(
        args=[
            "users",
            "create",
            "Ops@Example.com",
            "--role",
            "operator",
            "--password",
            "ops team passphrase",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.email == "ops@example.com"))
    assert user.role == "operator"


def test_create_user_prompts_for_the_password(app):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "p@example.com"], input="a long password\na long password\n"
    )
    assert result.exit_code == 0, result.output
    assert "a long password" not in result.output


def test_create_user_rejects_bad_input(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["users", "create", "x@example.com", "--password", "short"]).exit_code
    common = ["users", "create", "x@example.com", "--password", "password12345"]
    assert "too common" in runner.invoke(args=common).output
    assert runner.invoke(args=["users", "create", "x@example.com", "--role", "root"]).exit_code


def test_create_user_if_missing_is_idempotent(app):
    runner = app.test_cli_runner()
    args = ["users", "create", "a@example.com", "--password", "ops team passphrase", "--if-missing"]
    assert runner.invoke(args=args).exit_code == 0
    second = runner.invoke(args=args)
    assert second.exit_code == 0
    assert "already exists" in second.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_create_api_key_prints_it_last(app):
    result = app.test_cli_runner().invoke(
        args=["apikeys", "create", "grafana", "--scope", "write", "--expires-days", "30"]
    )
    assert result.exit_code == 0, result.output
    plaintext = result.output.strip().splitlines()[-1]
    key = find_api_key(plaintext)
    assert (key.name, key.scope) == ("grafana", "write")
    assert plaintext.split("_")[-1] not in key.secret_hash
    assert find_api_key(plaintext[:-1] + "x") is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiKey)) == 1


def test_create_api_key_rejects_a_bad_scope(app):
    result = app.test_cli_runner().invoke(args=["apikeys", "create", "x", "--scope", "admin"])
    assert result.exit_code != 0
