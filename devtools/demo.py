"""`make demo`: run the whole of Simfleet on one machine, with nothing configured.

Without DATABASE_URL / REDIS_URL it starts an embedded PostgreSQL and Redis with their data
under instance/; without ONCE_CLIENT_ID it starts the 1NCE simulator and points the app at
it, keeping the simulated fleet's changes in instance/simulator/state.json. Then it migrates,
makes sure the demo admin exists and runs web, worker and scheduler until Ctrl-C, which stops
every process it started. A second run reuses the same data, the simulator's included.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from devtools import devstack

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = ROOT / "instance"
WEB_ADDRESS = os.environ.get("DEMO_BIND", "127.0.0.1:8000")
SIMULATOR_PORT = int(os.environ.get("DEMO_SIMULATOR_PORT", "8010"))
SIMULATOR_SIMS = os.environ.get("DEMO_SIMS", "1000")
DEMO_ADMIN = ("admin@example.com", "simfleet-demo")
SIMULATOR_CREDENTIALS = ("simfleet-demo", "simfleet-demo-secret")
# Changes made in the demo stay at its 1NCE, as at the real one, when the demo restarts.
SIMULATOR_STATE = INSTANCE / "simulator" / "state.json"
# The simulator is no real 1NCE: let it answer faster than 1NCE's 10 requests per second so
# a new demo fleet fills within a minute or two. Real accounts keep ONCE_MAX_RPS at 8.
SIMULATOR_RPS = 50
DEMO_MAX_RPS = "40"


class Demo:
    """The processes of one demo run, stopped together."""

    def __init__(self) -> None:
        self.processes: list[subprocess.Popen] = []
        self.servers: list[subprocess.Popen] = []  # stopped after the processes that use them
        self.env = dict(os.environ)
        self.embedded_postgres: Path | None = None

    def start(self, *args: str, name: str, server: bool = False) -> subprocess.Popen:
        """Start a child process in the demo's environment.

        In a session of its own: Ctrl-C reaches only this supervisor, which then stops the
        app's processes before the servers they use (no tracebacks about a Redis gone first).
        """
        process = subprocess.Popen(list(args), cwd=ROOT, env=self.env, start_new_session=True)
        print(f"  started {name} (pid {process.pid})", flush=True)
        (self.servers if server else self.processes).append(process)
        return process

    def flask(self, *args: str) -> None:
        """Run a `flask --app wsgi` command to completion."""
        subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT,
                       env=self.env, check=True)  # fmt: skip

    def provide_services(self) -> None:
        """Use the configured PostgreSQL, Redis and 1NCE account, or start local ones."""
        if not self.env.get("DATABASE_URL"):
            self.embedded_postgres = INSTANCE / "postgres"
            self.env["DATABASE_URL"] = devstack.start_postgres(self.embedded_postgres, "simfleet")
            print(f"  embedded PostgreSQL in {self.embedded_postgres}", flush=True)
        if not self.env.get("REDIS_URL"):
            redis, self.env["REDIS_URL"] = devstack.start_redis(INSTANCE / "redis")
            self.servers.append(redis)
            print(f"  embedded Redis at {self.env['REDIS_URL']}", flush=True)
        if not self.env.get("ONCE_CLIENT_ID"):
            self.start_simulator()

    def start_simulator(self) -> None:
        """Serve a simulated 1NCE account and point the app at it."""
        client_id, secret = SIMULATOR_CREDENTIALS
        # On v2 the simulator's v1 answers as retired, as 1NCE's will: a v1 call shows up.
        retired = ["--v1-retired"] if self.env.get("ONCE_API_VERSION", "v2") == "v2" else []
        self.start(
            sys.executable, "-m", "simulator", "serve",
            "--port", str(SIMULATOR_PORT), "--sims", SIMULATOR_SIMS, "--seed", "1",
            "--client-id", client_id, "--client-secret", secret, "--rps", str(SIMULATOR_RPS),
            "--state-file", str(SIMULATOR_STATE), *retired,
            name=f"1NCE simulator with {SIMULATOR_SIMS} SIMs", server=True,
        )  # fmt: skip
        self.env.update(
            ONCE_API_URL=f"http://127.0.0.1:{SIMULATOR_PORT}/management-api",
            ONCE_CLIENT_ID=client_id,
            ONCE_CLIENT_SECRET=secret,
        )
        self.env.setdefault("ONCE_MAX_RPS", DEMO_MAX_RPS)

    def run(self) -> None:
        """Start everything, print how to sign in, and wait for Ctrl-C."""
        print("Starting Simfleet demo", flush=True)
        self.env.setdefault("APP_ENV", "development")
        # The API docs for anyone, signed in or not (production refuses this setting).
        if self.env["APP_ENV"] != "production":
            self.env.setdefault("API_DOCS_ENABLED", "true")
        self.provide_services()
        self.flask("db", "upgrade")
        email, password = DEMO_ADMIN
        self.flask("users", "create", email, "--role", "admin", "--password", password,
                   "--if-missing")  # fmt: skip
        bin_dir = Path(sys.executable).parent
        self.start(str(bin_dir / "gunicorn"), "--bind", WEB_ADDRESS, "wsgi:app", name="web")
        for number in (1, 2):
            self.start(sys.executable, "-m", "worker", name=f"worker {number}")
        self.start(sys.executable, "-m", "worker.scheduler", name="scheduler")
        print(
            f"\nSimfleet is running at http://{WEB_ADDRESS}/\n"
            f"Sign in as {email} with password {password}\nPress Ctrl-C to stop.\n",
            flush=True,
        )
        everything = self.processes + self.servers
        while all(process.poll() is None for process in everything):
            time.sleep(0.5)
        failed = [p.args for p in everything if p.poll() is not None]
        # The argument list (a list's repr and str are the same).
        raise SystemExit(f"a demo process exited unexpectedly: {failed[0]!r}")

    def stop(self) -> None:
        """Stop the app's processes, then the servers they used, then embedded PostgreSQL."""
        for group in (self.processes, self.servers):
            _terminate(group)
        if self.embedded_postgres:
            devstack.stop_postgres(self.embedded_postgres)
        print("Simfleet demo stopped.", flush=True)


def _terminate(processes: list[subprocess.Popen]) -> None:
    """Ask every process to stop, then wait for all (killing any that takes over 15 s)."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def main() -> None:
    """Entry point of `make demo`."""
    demo = Demo()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    # Ctrl-C stops the demo even when started in the background, where the shell starts it
    # with SIGINT ignored (its children, in sessions of their own, never see it).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        demo.run()
    except KeyboardInterrupt:
        pass
    finally:
        demo.stop()


if __name__ == "__main__":
    main()
