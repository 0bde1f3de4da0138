"""`python -m simulator [serve]`: run the local 1NCE API on its own (serving is the default).

A standalone command rather than a `flask --app wsgi` one, so that the simulator needs no
Simfleet settings (database, Redis, secrets) and the app never imports it.
"""

import signal
from pathlib import Path

import click

from simulator import create_simulator_app
from simulator.server import make_simulator_server
from simulator.state import StateKeeper


@click.group(help="Run the local 1NCE Management API simulator.", invoke_without_command=True)
@click.pass_context
def cli(context: click.Context) -> None:
    """The simulator's commands; without one, serve with the defaults."""
    if context.invoked_subcommand is None:
        context.invoke(serve)


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", default=8010, show_default=True, type=int, help="Port to listen on.")
@click.option("--sims", default=1000, show_default=True, type=click.IntRange(min=0))
@click.option("--seed", default=1, show_default=True, type=int, help="Fleet seed.")
@click.option("--client-id", default="simfleet-demo", show_default=True)
@click.option("--client-secret", default="simfleet-demo-secret", show_default=True)
@click.option(
    "--rps", default=10.0, show_default=True, type=float, help="/sims limit per client (0: off)."
)
@click.option(
    "--write-delay", default=2.0, show_default=True, type=float, help="Seconds until writes apply."
)
@click.option("--access-log/--no-access-log", default=False, help="Log every request.")
@click.option("--v1-retired", is_flag=True, help="Answer every /v1 request with 410 (v2 only).")
@click.option(
    "--state-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Keep the fleet's changes in this file across restarts (loaded at start).",
)
def serve(
    host: str,
    port: int,
    sims: int,
    seed: int,
    client_id: str,
    client_secret: str,
    rps: float,
    write_delay: float,
    access_log: bool,
    v1_retired: bool,
    state_file: Path | None,
) -> None:
    """Serve the simulator until interrupted (SIGINT or SIGTERM)."""
    app = create_simulator_app(
        sims=sims,
        seed=seed,
        client_id=client_id,
        client_secret=client_secret,
        rps=rps,
        write_delay=write_delay,
        v1_retired=v1_retired,
    )
    keeper = StateKeeper(app.extensions["fleet"], state_file).start() if state_file else None
    server = make_simulator_server(app, host, port, access_log=access_log)
    versions = "v2 only (v1 retired)" if v1_retired else "v1 and v2"
    click.echo(
        f"1NCE simulator ({versions}): {sims} SIMs (seed {seed}), {rps:g} req/s per client, "
        f"http://{host}:{server.server_port}/management-api (client id {client_id})",
        err=True,
    )
    if keeper:
        click.echo(f"Fleet changes kept in {state_file}", err=True)
    # Stopped like Ctrl-C, so the state file gets its last writes.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        if keeper:
            keeper.stop()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    cli(prog_name="python -m simulator")
