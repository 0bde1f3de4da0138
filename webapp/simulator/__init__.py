"""A faithful local 1NCE Management API (demo mode and tests).

`create_simulator_app()` is a WSGI app of its own serving the v1 API under `/management-api`
in the recorded wire format (see /work/shared/reference/1nce-api.md), quirks included: the
token endpoint answers errors with HTTP 400 and camelCase keys; other 401s are Spring Boot
bodies with the internal `/internal-global-api` path; unset `label`/`imei` keys are left
out; usage volumes are decimal strings, newest first, with a trailing `TOTAL` row; quota and
location dates are `YYYY-MM-DD HH:MM:SS`; an unknown ICCID reads as 200 with an empty body;
writes answer 200/201 with empty bodies and take effect after `write_delay` seconds; /sims
calls beyond `rps` per client id within any second get 429 `{"message": "Too Many Requests"}`.

The fleet (`app.extensions["fleet"]`, a `Fleet`) is derived lazily from the seed, so 100,000
SIMs start instantly; only changed SIMs take memory. Unauthenticated controls for tests and
benchmarks: `POST`/`DELETE /_sim/faults`, `GET /_sim/stats`, `POST /_sim/stats/reset`.
"""

from collections.abc import Callable
from datetime import datetime

from flask import Flask

from webapp.simulator.fleet import Fleet
from webapp.simulator.gateway import Gateway
from webapp.simulator.views import Settings, register

__all__ = ["Fleet", "create_simulator_app"]


def create_simulator_app(
    *,
    sims: int = 1000,
    seed: int = 1,
    client_id: str = "simfleet-demo",
    client_secret: str = "simfleet-demo-secret",
    rps: float = 10.0,
    write_delay: float = 2.0,
    token_ttl: int = 3600,
    now: Callable[[], datetime] | None = None,
    unknown_iccid: str = "empty",
) -> Flask:
    """Build the simulator WSGI app; its ground truth is `app.extensions["fleet"]`.

    `rps` is the /sims limit per client id in any 1-second window (whole requests; 0 switches
    it off); `now` is an injectable clock (tests move time with `Fleet.advance_clock`);
    `unknown_iccid` is "empty" (200 with an empty body, as recorded) or "404" (as specified).
    """
    if unknown_iccid not in ("empty", "404"):
        raise ValueError("unknown_iccid must be 'empty' or '404'")
    app = Flask(__name__)
    fleet = Fleet(sims=sims, seed=seed, now=now, write_delay=write_delay)
    app.extensions["fleet"] = fleet
    app.extensions["simulator_gateway"] = Gateway(
        clock=fleet.now, rps=rps, token_ttl=token_ttl, seed=seed
    )
    app.extensions["simulator_settings"] = Settings(client_id, client_secret, unknown_iccid)
    app.config["FLEET"] = fleet
    register(app)
    return app
