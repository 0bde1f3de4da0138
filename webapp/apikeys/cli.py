"""`flask --app wsgi apikeys ...`: create, revoke and list API keys for scripts."""

import click
from flask.cli import AppGroup

from webapp.apikeys.services import create_api_key, list_api_keys, revoke_api_key
from webapp.extensions import db
from webapp.models.apikey import API_KEY_SCOPES
from webapp.models.base import utcnow

apikeys_cli = AppGroup("apikeys", help="Manage API keys for scripts.")


@apikeys_cli.command("create")
@click.argument("name")
@click.option("--scope", type=click.Choice(API_KEY_SCOPES), default="read", show_default=True)
@click.option("--expires-days", type=click.IntRange(min=1), default=None)
def create_apikey_command(name: str, scope: str, expires_days: int | None) -> None:
    """Create an API key and print it alone on the last line (it is not shown again)."""
    try:
        key, plaintext = create_api_key(name=name, scope=scope, expires_days=expires_days)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    expiry = key.expires_at.date().isoformat() if key.expires_at else "never"
    click.echo(f"Created {scope} key {key.name!r} (prefix {key.prefix}, expires {expiry}).")
    click.echo("Store it now; Simfleet keeps only its hash:")
    click.echo(plaintext)


@apikeys_cli.command("revoke")
@click.argument("prefix")
def revoke_apikey_command(prefix: str) -> None:
    """Revoke the API key with this prefix; requests with it get 401 from now on."""
    key = revoke_api_key(prefix=prefix)
    if key is None:
        raise click.ClickException(f"No API key has the prefix {prefix!r}.")
    db.session.commit()
    click.echo(f"Revoked key {key.name!r} (prefix {key.prefix}).")


@apikeys_cli.command("list")
def list_apikeys_command() -> None:
    """List the API keys: prefix, scope, state, name, created, expires, last used."""
    now = utcnow()
    click.echo("PREFIX        SCOPE  STATE    CREATED     EXPIRES     LAST USED         NAME")
    for key in list_api_keys():
        if key.revoked_at:
            state = "revoked"
        elif key.expires_at and key.expires_at <= now:
            state = "expired"
        else:
            state = "active"
        expires = key.expires_at.date().isoformat() if key.expires_at else "never"
        used = key.last_used_at.strftime("%Y-%m-%d %H:%M") if key.last_used_at else "never"
        click.echo(
            f"{key.prefix:<13} {key.scope:<6} {state:<8} {key.created_at.date().isoformat()}  "
            f"{expires:<11} {used:<17} {key.name}"
        )
