"""One SIM: identity, quotas, usage chart, events, connectivity, diagnosis and actions."""

from datetime import UTC, datetime

from flask import Response, abort, flash, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from webapp.audit import record_audit
from webapp.auth.services import role_required
from webapp.chart_ranges import CHART_RANGES
from webapp.errors import QueryError
from webapp.extensions import db, get_client
from webapp.models import Role, Sim
from webapp.one_nce import OneNceError
from webapp.pages import redirect_after_post, render_fragment, render_page, wants_partial
from webapp.products import get_topup_info
from webapp.sim_detail import bp
from webapp.sim_detail.actions import (
    RECENT_ACTIONS,
    ActionFailed,
    list_recent_actions,
    list_settled_actions,
    perform_action,
)
from webapp.sim_detail.diagnosis import diagnose
from webapp.sim_detail.forms import FORM_ACTIONS, ActionFormInvalid, FormAction, parse_action_form
from webapp.sim_detail.history import find_contradictions, list_sim_history
from webapp.sim_detail.services import (
    EVENTS_PAGE,
    get_month_usage,
    get_usage_series,
    parse_usage_range,
    refresh_connectivity,
)
from webapp.sim_queries import get_sim, list_sim_events


def _sim_or_404(iccid: str) -> Sim:
    sim = get_sim(iccid=iccid)
    if sim is None:
        abort(404)
    return sim


def _page_url(sim: Sim) -> str:
    return url_for("sim_detail.index", iccid=sim.iccid)


def _usage_range():
    """The requested range, or the default one and why the requested one was refused."""
    try:
        return parse_usage_range(request.args, today=datetime.now(UTC).date()), None
    except QueryError as exc:
        return parse_usage_range({}, today=datetime.now(UTC).date()), exc.message


def _state(sim: Sim) -> dict:
    """What the panels that follow the SIM's state need: changes, diagnosis, actions."""
    events = list_sim_events(iccid=sim.iccid, limit=EVENTS_PAGE)
    actions = list_recent_actions(iccid=sim.iccid)
    return {
        "sim": sim,
        "events": events,
        # The diagnosis reads the same first page of events the timeline shows.
        "diagnosis": diagnose(sim=sim, events=events.items, now=datetime.now(UTC)),
        "actions": actions,
        "history": list_sim_history(sim=sim, actions=actions),
        "contradictions": find_contradictions(sim=sim),
        "form_actions": FORM_ACTIONS,
        # This month's use beside the quota; what a top-up buys beside its button.
        "month_usage": get_month_usage(iccid=sim.iccid, today=datetime.now(UTC).date()),
        "topup": get_topup_info(),
    }


def _panels(sim: Sim) -> dict:
    """What every panel of the page needs; a fixed number of bounded queries."""
    usage_range, range_error = _usage_range()
    return _state(sim) | {
        "usage_range": usage_range,
        "range_error": range_error,
        "ranges": CHART_RANGES,
        "usage": get_usage_series(iccid=sim.iccid, usage_range=usage_range),
    }


@bp.get("/<iccid>")
@login_required
def index(iccid: str) -> ResponseReturnValue:
    """Everything Simfleet knows about one SIM."""
    sim = _sim_or_404(iccid)
    return render_page("sim_detail/sim.html", "sim_detail/_panels.html", **_panels(sim))


@bp.get("/<iccid>/usage.json")
@login_required
def usage_json(iccid: str) -> ResponseReturnValue:
    """Daily data (rx/tx) and SMS (MO/MT) of a range, for the chart."""
    sim = _sim_or_404(iccid)
    try:
        usage_range = parse_usage_range(request.args, today=datetime.now(UTC).date())
    except QueryError as exc:
        return jsonify(error=exc.message, field=exc.field), 400
    return jsonify(get_usage_series(iccid=sim.iccid, usage_range=usage_range))


@bp.get("/<iccid>/usage")
@login_required
def usage(iccid: str) -> ResponseReturnValue:
    """The usage panel for another range (HTMX); a plain request gets the whole page."""
    sim = _sim_or_404(iccid)
    usage_range, range_error = _usage_range()
    # The address bar shows the page's URL for this range, so reload and back work.
    page_url = url_for("sim_detail.index", iccid=sim.iccid, **usage_range.query())
    response = render_fragment(
        "sim_detail/_usage.html",
        page_url=page_url,
        sim=sim,
        usage_range=usage_range,
        range_error=range_error,
        ranges=CHART_RANGES,
        usage=get_usage_series(iccid=sim.iccid, usage_range=usage_range),
    )
    if wants_partial():
        response.headers["HX-Push-Url"] = page_url
    return response


@bp.get("/<iccid>/events")
@login_required
def events(iccid: str) -> ResponseReturnValue:
    """The next rows of the events timeline, after `cursor` (infinite scroll)."""
    sim = _sim_or_404(iccid)
    try:
        page = list_sim_events(
            iccid=sim.iccid, limit=EVENTS_PAGE, cursor=request.args.get("cursor")
        )
    except QueryError:
        abort(400)
    return render_fragment(
        "sim_detail/_event_rows.html", page_url=_page_url(sim), sim=sim, events=page
    )


@bp.get("/<iccid>/actions")
@login_required
def actions(iccid: str) -> ResponseReturnValue:
    """The Changes panel; it polls itself while a change is pending.

    `pending` names the changes the polling page shows as pending: once one of them settled,
    every panel that shows what it changed is sent too (out of band), so none stays stale.
    """
    sim = _sim_or_404(iccid)
    state = _state(sim)
    parts = request.args.get("pending", "").split(",")
    ids = [int(p) for p in parts if p.isascii() and p.isdigit() and len(p) <= 18]
    settled = list_settled_actions(iccid=sim.iccid, ids=ids[:RECENT_ACTIONS])
    template = "sim_detail/_settled.html" if settled else "sim_detail/_pending.html"
    return render_fragment(template, page_url=_page_url(sim), settled=settled, **state)


@bp.post("/<iccid>/check")
@role_required(Role.OPERATOR)
def check_now(iccid: str) -> ResponseReturnValue:
    """Fetch the live connectivity from 1NCE and show it with a fresh diagnosis."""
    sim = _sim_or_404(iccid)
    try:
        refresh_connectivity(sim=sim, client=get_client())
        error = None
    except OneNceError as exc:
        db.session.rollback()
        error = f"1NCE did not answer the status request: {exc.message}"
    record_audit(
        "sim.check_connectivity",
        target=sim.iccid,
        details={"outcome": "failed" if error else "ok"} | ({"error": error} if error else {}),
    )
    db.session.commit()
    if not wants_partial():
        if error:
            flash(error, "error")
        return redirect_after_post(url_for("sim_detail.index", iccid=sim.iccid))
    recent = list_sim_events(iccid=sim.iccid, limit=EVENTS_PAGE).items
    diagnosis = diagnose(sim=sim, events=recent, now=datetime.now(UTC))
    return render_fragment(
        "sim_detail/_connectivity.html",
        page_url=_page_url(sim),
        sim=sim,
        diagnosis=diagnosis,
        check_error=error,
    )


@bp.post("/<iccid>/actions/<name>")
@role_required(Role.OPERATOR)
def act(iccid: str, name: str) -> ResponseReturnValue:
    """Confirm, then perform, one action on the SIM through 1NCE."""
    sim = _sim_or_404(iccid)
    if name not in FORM_ACTIONS:
        abort(404)
    try:
        action = parse_action_form(name, request.form)
    except ActionFormInvalid as exc:
        return _confirmation(sim, name, None, exc.message, 422)
    if request.form.get("confirmed") != "yes":
        return _confirmation(sim, name, action, None, 200)
    try:
        row, _ = perform_action(
            sim=sim,
            spec=action.spec,
            values=action.values,
            actor=current_user._get_current_object(),
            actor_label=current_user.email,
            audit_action=f"sim.{name}",
            reason=action.reason,
        )
    except ActionFailed as exc:
        flash(f"{action.title} failed: 1NCE answered {exc.error.message}", "error")
    else:
        message = "pending until 1NCE applies it" if row.state == "pending" else "done"
        flash(f"{action.title} requested: {message}.", "success")
    return redirect_after_post(url_for("sim_detail.index", iccid=sim.iccid))


def _confirmation(
    sim: Sim, name: str, action: FormAction | None, error: str | None, status: int
) -> Response:
    context = {"sim": sim, "name": name, "action": action, "error": error, "form": request.form}
    context |= {"title": FORM_ACTIONS[name][0], "form_actions": FORM_ACTIONS, "confirm": True}
    if name == "topup":
        context["topup"] = get_topup_info()
    return render_page("sim_detail/sim.html", "sim_detail/_confirm.html", status, **context)
