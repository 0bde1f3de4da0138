"""A faithful local 1NCE Management API, v2 and v1 (demo mode, tests and benchmarks).

It stands apart from the production package (it imports nothing of the app), needs no
Simfleet settings and runs with `python -m simulator serve` (see docs/simulator.md).

`create_simulator_app()` is a WSGI app of its own serving one simulated account under
`/management-api`, through both API versions:

- **v2** (`/v2/sims...`, simulator/views_v2.py) as the v2 spec describes it (see
  /work/shared/reference/1nce-api-v2.md): the v2 error body
  `{"error_code": 1000, "error_token": "NotFound", ...}` (404 for any unknown ICCID, 400,
  409 for expired SIMs), nested events as a plain array with stable integer ids, `per_page`
  on SMS, no paging headers on events and SMS, `/status` objects with BLOCKED and
  `data_traffic_limit_state`, `pdp_contexts` arrays, quotas whose volume can be negative and
  whose status ids differ from the SIM's, five timestamp styles. Daily usage is an
  assumption (v1's parameters and `{"stats": [...]}` body; 1NCE has not published it).
- **v1** (`/v1/...`, simulator/views.py) in the recorded wire format (see
  /work/shared/reference/1nce-api.md), quirks included: the token endpoint answers errors
  with HTTP 400 and camelCase keys; other 401s are Spring Boot bodies with the internal
  `/internal-global-api` path; unset `label`/`imei` keys are left out; usage volumes are
  decimal strings, newest first, with a trailing `TOTAL` row; quota and location dates are
  `YYYY-MM-DD HH:MM:SS`; an unknown ICCID reads as 200 with an empty body. `v1_retired`
  (or the `v1_retired` fault) answers every /v1 request 410, as after 1NCE's cut-over.

Both versions read and write the same fleet; writes answer at once and take effect after
`write_delay` seconds; /v1/sims and /v2/sims calls share one limit of `rps` per client id in
any second (429 `{"message": "Too Many Requests"}`).

The fleet (`app.extensions["fleet"]`, a `Fleet`) is derived lazily from the seed, so 100,000
SIMs start instantly; only changed SIMs take memory. Unauthenticated controls for tests and
benchmarks: `POST`/`DELETE /_sim/faults`, `GET /_sim/stats` (with `v1_requests` and
`v2_requests`), `POST /_sim/stats/reset`, `GET /_sim/truth` (the account's ground truth).
"""

from collections.abc import Callable
from datetime import datetime

from flask import Flask

from simulator.common import Settings
from simulator.fleet import Fleet
from simulator.gateway import Gateway
from simulator.hooks import register

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
    v1_retired: bool = False,
) -> Flask:
    """Build the simulator WSGI app; its ground truth is `app.extensions["fleet"]`.

    `rps` is the /sims limit per client id in any 1-second window (whole requests; 0 switches
    it off); `now` is an injectable clock (tests move time with `fleet.controls.advance_clock`);
    `unknown_iccid` is "empty" (200 with an empty body, as recorded) or "404" (as specified)
    for v1 reads; `v1_retired` answers every /v1 request with 410 from the start.
    """
    if unknown_iccid not in ("empty", "404"):
        raise ValueError("unknown_iccid must be 'empty' or '404'")
    app = Flask(__name__)
    fleet = Fleet(sims=sims, seed=seed, now=now, write_delay=write_delay)
    app.extensions["fleet"] = fleet
    app.extensions["simulator_gateway"] = Gateway(
        clock=fleet.now, rps=rps, token_ttl=token_ttl, seed=seed, v1_retired=v1_retired
    )
    app.extensions["simulator_settings"] = Settings(client_id, client_secret, unknown_iccid)
    app.config["FLEET"] = fleet
    register(app)
    return app
