"""`flask --app wsgi alerts evaluate`: one evaluation of every enabled rule, now."""

import click
from flask.cli import AppGroup

from webapp.alerts.evaluation import evaluate

alerts_cli = AppGroup("alerts", help="Evaluate alert rules.")


@alerts_cli.command("evaluate")
def evaluate_command() -> None:
    """Evaluate every enabled rule now and print how many alerts fired, stayed and resolved."""
    counts = evaluate()
    click.echo(f"fired {counts.fired}, stayed {counts.stayed}, resolved {counts.resolved}")
