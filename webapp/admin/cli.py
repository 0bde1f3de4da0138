"""`flask --app wsgi users ...`: manage the people who sign in."""

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from webapp.admin.services import UserError, create_user
from webapp.extensions import db
from webapp.models import Role, User

users_cli = AppGroup("users", help="Manage the people who sign in.")


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.VIEWER.value)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--if-missing", is_flag=True, help="Do nothing when the user already exists.")
def create_user_command(email: str, role: str, password: str, if_missing: bool) -> None:
    """Create a user with a role (the password is prompted for unless given)."""
    email = email.strip().lower()
    if if_missing and db.session.scalar(sa.select(User.id).where(User.email == email)):
        click.echo(f"User {email} already exists.")
        return
    try:
        user = create_user(email=email, password=password, role=Role(role))
    except UserError as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"Created {user.role} {user.email}.")
