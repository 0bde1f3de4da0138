"""The `/api/v1` routes: parse, call a service, shape the JSON."""

import json
from datetime import UTC, datetime

from flask import Response, abort, current_app, render_template, request
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from webapp.api import auth, bp, docs_bp
from webapp.api.auth import (
    add_rate_limit_headers,
    admit_request,
    current_caller,
    is_write_route,
    require_key,
    write_scope,
)
from webapp.api.http import finish_response, json_response
from webapp.api.openapi import build_openapi, list_operations, schema_fields, with_topup_offer
from webapp.api.problems import ApiProblem, from_api_problem, from_http_exception
from webapp.api.reads import sim_document, sim_documents_page
from webapp.api.representation import event_json, summary_json, usage_json
from webapp.api.writes import WRITE_ACTIONS, perform_write
from webapp.errors import QueryError, answer_errors_under
from webapp.extensions import csrf, limiter
from webapp.fleet.services import get_fleet_summary, list_fleet_usage
from webapp.inputs import load_json
from webapp.models import Sim
from webapp.one_nce.parsing import is_iccid
from webapp.products import describe_topup, get_topup_info
from webapp.sim_queries import (
    SimFilters,
    get_sim,
    list_sim_events,
    list_sim_usage,
    parse_date_range,
    parse_limit,
)

csrf.exempt(bp)
# The API counts its own per-key limits (webapp/api/ratelimit.py): one Redis round trip that
# also reads the API-key change token, where Flask-Limiter took three.
limiter.exempt(bp)
# The setup state holds the Flask app; Flask types it as its sans-io base class.
bp.record_once(lambda state: auth.init_app(state.app))  # type: ignore[arg-type]
bp.register_error_handler(ApiProblem, from_api_problem)
bp.register_error_handler(HTTPException, from_http_exception)
# The setup state holds the Flask app; Flask types it as its sans-io base class.
bp.record_once(lambda state: answer_errors_under(state.app, "/api/", from_http_exception))  # type: ignore[arg-type]
bp.after_request(finish_response)
bp.after_request(add_rate_limit_headers)


@bp.errorhandler(QueryError)
def invalid_parameter(error: QueryError) -> Response:
    """A bad query parameter: 400 naming it."""
    return from_api_problem(ApiProblem(400, f"{error.field} {error.message}", field=error.field))


@bp.before_request
def authenticate():
    """Rate-limit the request; all but the OpenAPI document need a key (cookies do not count)."""
    admit_request(write=is_write_route())
    if request.endpoint != "api.openapi":
        require_key()


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 description of this API, with what a top-up buys and costs now."""
    # Anyone may read this document, so reading it never sends Simfleet to 1NCE.
    offer = describe_topup(get_topup_info(refresh=False))
    return json_response(with_topup_offer(build_openapi(), offer))


@bp.get("/sims")
def sims():
    """A keyset page of SIMs, filtered."""
    page = sim_documents_page(
        filters=SimFilters.from_args(request.args),
        limit=parse_limit(request.args.get("limit")),
        cursor=request.args.get("cursor"),
    )
    # The SIMs are stored JSON texts; only the envelope is built here.
    sims = ",".join(page.items)
    body = f'{{"data":[{sims}],"next_cursor":{json.dumps(page.next_cursor)}}}'
    return Response(body, mimetype="application/json")


@bp.get("/sims/<iccid>")
def sim(iccid: str) -> Response:
    """One SIM."""
    sim = sim_document(iccid) if is_iccid(iccid) else None
    if sim is None:
        raise ApiProblem(404, f"No SIM has the ICCID {iccid!r}.")
    return Response(sim, mimetype="application/json")


@bp.get("/sims/<iccid>/usage")
def sim_usage(iccid: str) -> Response:
    """A SIM's usage per day between `start` and `end`: zeros without traffic, nulls unknown."""
    _sim_or_404(iccid)
    start, end = parse_date_range(request.args, today=datetime.now(UTC).date())
    rows = list_sim_usage(iccid=iccid, start=start, end=end)
    return json_response({"data": [usage_json(row) for row in rows], "next_cursor": None})


@bp.get("/sims/<iccid>/events")
def sim_events(iccid: str) -> Response:
    """A SIM's events, newest first, a keyset page at a time."""
    _sim_or_404(iccid)
    page = list_sim_events(
        iccid=iccid,
        limit=parse_limit(request.args.get("limit")),
        cursor=request.args.get("cursor"),
    )
    return json_response(
        {"data": [event_json(event) for event in page.items], "next_cursor": page.next_cursor}
    )


@bp.get("/fleet/summary")
def fleet_summary():
    """The fleet's KPIs."""
    return json_response(summary_json(get_fleet_summary()))


@bp.get("/fleet/usage")
def fleet_usage():
    """The fleet's usage per day between `start` and `end`, nulls for days no SIM has kept."""
    start, end = parse_date_range(request.args, today=datetime.now(UTC).date())
    rows = list_fleet_usage(start=start, end=end)
    return json_response({"data": [usage_json(row) for row in rows], "next_cursor": None})


@bp.patch("/sims/<iccid>")
@write_scope
def update_sim(iccid: str) -> Response:
    """Change a SIM's status, label or IMEI lock at 1NCE; 202 with the pending change."""
    return _write(iccid, "update")


@bp.post("/sims/<iccid>/<any(reset, topup, sms):action>")
@write_scope
def sim_action(iccid: str, action: str) -> Response:
    """Reset connectivity, order a top-up or send an SMS; 202 with the pending change."""
    return _write(iccid, action)


@docs_bp.get("")
def docs():
    """The API's documentation: for signed-in users always, for anyone with API_DOCS_ENABLED."""
    if not (current_app.config["API_DOCS_ENABLED"] or current_user.is_authenticated):
        abort(404)
    topup = get_topup_info(refresh=current_user.is_authenticated)
    spec = with_topup_offer(build_openapi(), describe_topup(topup))
    return render_template(
        "api/docs.html",
        spec=spec,
        operations=list_operations(spec),
        sim_fields=schema_fields(spec, "Sim"),
    )


def _sim_or_404(iccid: str) -> Sim:
    sim = get_sim(iccid=iccid)
    if sim is None:
        raise ApiProblem(404, f"No SIM has the ICCID {iccid!r}.")
    return sim


def _write(iccid: str, action: str) -> Response:
    sim = _sim_or_404(iccid)
    body = _json_body()
    caller = current_caller()
    assert caller is not None, "write_scope let only a write key through"
    pending = perform_write(sim=sim, action=WRITE_ACTIONS[action], body=body, caller=caller)
    return json_response(pending, status=202)


def _json_body() -> dict:
    raw = request.get_data(cache=False)
    if not raw.strip():
        return {}
    try:
        body = load_json(raw)
    except ValueError as error:
        raise ApiProblem(400, f"The body is not valid JSON: {error}.", field="body") from None
    if not isinstance(body, dict):
        raise ApiProblem(422, "The body must be a JSON object.", field="body")
    return body
