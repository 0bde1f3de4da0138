"""`flask --app wsgi sync run KIND`: the same sync code, run synchronously, with a summary;
`flask --app wsgi once compare`: v1 and v2 of 1NCE's API side by side."""

from collections import Counter
from datetime import datetime

import click
from flask import current_app
from flask.cli import AppGroup

from webapp.extensions import client_from_config, get_client
from webapp.models.sync import SYNC_KINDS
from webapp.one_nce import OneNceError
from webapp.sync.compare import Difference, compare_versions
from webapp.sync.retention import enforce_retention
from webapp.sync.services import SyncBusy, run_now

sync_cli = AppGroup("sync", help="Pull the fleet from 1NCE into the database.")
once_cli = AppGroup("once", help="Look at the 1NCE Management API itself.")


@sync_cli.command("run")
@click.argument("kind", type=click.Choice([*SYNC_KINDS, "all"]))
@click.option("--limit", type=click.IntRange(min=1), help="At most this many SIMs per kind.")
def run_command(kind: str, limit: int | None) -> None:
    """Run one sync kind (or all, inventory first) now; exit status 0 only on success."""
    client = get_client()
    failed = False
    for each in SYNC_KINDS if kind == "all" else (kind,):
        try:
            run = run_now(kind=each, client=client, limit=limit)
        except SyncBusy as exc:
            click.echo(f"{each}: skipped, {exc}", err=True)
            failed = True
            continue
        except OneNceError as exc:
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
    """Drop usage, events and settled records older than the configured retention now."""
    for table, removed in enforce_retention().items():
        click.echo(f"{table}: removed {removed}")


@once_cli.command("compare")
@click.option("--sims", default=20, show_default=True, type=click.IntRange(min=1))
def compare_command(sims: int) -> None:
    """Read SIMs through v1 and v2 and print where they disagree; exit 1 on a real difference."""
    config = current_app.config
    v1, v2 = (client_from_config({**config, "ONCE_API_VERSION": v}) for v in ("v1", "v2"))
    try:
        differences = list(compare_versions(v1=v1, v2=v2, sims=sims))
    except OneNceError as exc:
        click.echo(f"cannot compare: {exc}", err=True)
        raise SystemExit(2) from None
    for difference in differences:
        click.echo(_describe_difference(difference))
    real = [d for d in differences if not d.expected]
    fields = Counter(d.field.partition("[")[0] for d in real)
    summary = ", ".join(f"{field} ({count})" for field, count in sorted(fields.items()))
    click.echo(
        f"compared {sims} SIMs: {len(real)} real difference(s)"
        + (f" in {summary}" if summary else "")
        + f", {len(differences) - len(real)} by design of v2"
    )
    if real:
        raise SystemExit(1)


def _describe_difference(difference: Difference) -> str:
    kind = "by design" if difference.expected else "DIFFERS"
    return (
        f"{difference.iccid} {difference.field}: v1={_show(difference.v1)}"
        f" v2={_show(difference.v2)} [{kind}]"
    )


def _show(value: object) -> str:
    """A compared value as a person reads it: text bare, times in ISO 8601, nothing as -."""
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)
