"""The SIM inventory: search, filters, sorting, keyset pages, saved views and CSV export."""

from typing import Any
from urllib.parse import parse_qsl, urlencode

from flask import abort, flash, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from webapp.errors import QueryError
from webapp.fleet.services import count_figure_view
from webapp.inventory import bp
from webapp.inventory.export import export_inventory
from webapp.inventory.saved_views import (
    SavedViewError,
    delete_saved_view,
    list_saved_views,
    save_view,
)
from webapp.inventory.services import (
    COUNT_CAP,
    SimCount,
    SimOrder,
    count_sims,
    data_left_percent,
    estimate_sims,
    list_choices,
    list_inventory,
    view_args,
)
from webapp.models import Sim
from webapp.models.sim import QUOTA_STATES
from webapp.pages import redirect_after_post, render_page, wants_partial
from webapp.sim_queries import SimFilters


@bp.get("")
@login_required
def index():
    """Every SIM of the fleet, narrowed, sorted and paged as the URL says."""
    args = view_args(request.args)
    context: dict[str, Any] = {
        "args": args,
        "view_args": args,
        "data_left_percent": data_left_percent,
        "first_page": not request.args.get("cursor"),
    }
    if not wants_partial():
        # Only the full page has the filter form and the saved views.
        context |= {
            "saved_views": list_saved_views(user=current_user),
            "statuses": _pairs(list_choices(Sim.status), args.get("status")),
            "quota_choices": [(state.name, state.filter_label) for state in QUOTA_STATES.values()],
            "countries": _pairs(list_choices(Sim.country), args.get("country")),
            "operators": _pairs(list_choices(Sim.operator), args.get("operator")),
        }
    try:
        filters, order = SimFilters.from_args(request.args), SimOrder.from_args(request.args)
        estimate = estimate_sims(filters=filters)
        # A narrowed set expected to be small is read whole and sorted (see list_inventory).
        small = filters.narrowed and estimate <= 2 * COUNT_CAP
        page = list_inventory(
            filters=filters, order=order, cursor=request.args.get("cursor"), small=small
        )
        if context["first_page"] and page.next_cursor is None:
            count = SimCount(len(page.items), exact=True)  # the whole view is on this page
        elif (figure := count_figure_view(filters)) is not None:
            count = SimCount(figure, exact=True)  # a dashboard figure's view says its number
        else:
            count = count_sims(filters=filters, estimate=estimate)
    except QueryError as error:
        return render_page(
            "inventory/sims.html", "inventory/_table.html", 400, error=error, results=None,
            count=None, total=None, order=SimOrder(), **context,
        )  # fmt: skip
    return render_page(
        "inventory/sims.html", "inventory/_table.html", error=None, results=page, count=count,
        total=count.value if count.exact else None, order=order, **context,
    )  # fmt: skip


@bp.get("/export.csv")
@login_required
def export():
    """The current view as a CSV download, every row, streamed."""
    try:
        filters, order = SimFilters.from_args(request.args), SimOrder.from_args(request.args)
    except QueryError as error:
        abort(400, f"{error.field} {error.message}")
    return export_inventory(filters=filters, order=order)


@bp.post("/views")
@login_required
def save_saved_view():
    """Save the current view under a name (replacing a view of the same name)."""
    query = request.form.get("query", "")
    try:
        view = save_view(user=current_user, name=request.form.get("name", ""), query=query)
    except SavedViewError as error:
        flash(str(error), "error")
        return redirect_after_post(_inventory_url(query))
    flash(f"Saved the view “{view.name}”.", "success")
    return redirect_after_post(_inventory_url(view.query))


@bp.post("/views/<int:view_id>/delete")
@login_required
def delete_view(view_id: int) -> ResponseReturnValue:
    """Delete one of the user's saved views."""
    if not delete_saved_view(user=current_user, view_id=view_id):
        abort(404)
    flash("Deleted the saved view.", "success")
    return redirect_after_post(url_for("inventory.index"))


def _inventory_url(query: str) -> str:
    args = view_args(dict(parse_qsl(query)))
    return url_for("inventory.index") + (f"?{urlencode(args)}" if args else "")


def _pairs(values: list[str], current: str | None) -> list[tuple[str, str]]:
    # A value from a shared URL stays selectable even when no SIM has it any more.
    if current and current not in values:
        values = [*values, current]
    return [(value, value) for value in values]
