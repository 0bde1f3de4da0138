"""`flask --app wsgi sync run KIND`: the same sync code, run synchronously, with a summary."""

import click
from flask.cli import AppGroup

from webapp.onece import OnceError, get_client
from webapp.sync.retention import enforce_retention
from webapp.sync.services import KINDS, SyncBusy, run_now

sync_cli = AppGroup("sync", help="Pull the fleet from 1NCE into the database.")


@sync_cli.command("run")
@click.argument("kind", type=click.Choice([*KINDS, "all"]))
@click.option("--limit", type=click.IntRange(min=1), help="At most this many SIMs per kind.")
def run_command(kind: str, limit: int | None) -> None:
    """Run one sync kind (or all, inventory first) now; exit status 0 only on success."""
    client = get_client()
    failed = False
    for each in KINDS if kind == "all" else (kind,):
        try:
            run = run_now(kind=each, client=client, limit=limit)
        except SyncBusy as exc:
            click.echo(f"{each}: skipped, {exc}", err=True)
            failed = True
            continue
        except OnceError as exc:
            click.echo(f"{each}: failed, {exc}", err=True)
            failed = True
            continue
        click.echo(
            f"{each}: {run.outcome} in {run.duration_seconds:.1f} s, {run.sims_done} SIMs,"
            f" {run.calls} calls, {run.rows} rows, {run.errors} errors"
        )
        failed = failed or run.outcome != "success"
    if failed:
        raise SystemExit(1)


@sync_cli.command("retention")
def retention_command() -> None:
    """Drop usage and events older than the configured retention now."""
    for table, removed in enforce_retention().items():
        click.echo(f"{table}: removed {removed}")
