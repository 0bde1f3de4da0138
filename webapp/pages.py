"""The one place that decides between a page and an HTMX partial; the templates' helpers."""

import json
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, make_response, redirect, render_template
from htmx_flask import request
from werkzeug.wrappers import Response as BaseResponse

from webapp.models.sim import QUOTA_STATES_BY_ID


def wants_partial() -> bool:
    """True for an HTMX request that swaps a fragment (not boosted, not a history restore)."""
    return bool(request.htmx) and not (request.htmx.boosted or request.htmx.history_restore_request)


def render_page(page: str, partial: str, status: int = 200, **context: Any) -> Response:
    """Render `partial` for HTMX swaps and `page` (which includes it) otherwise."""
    template = partial if wants_partial() else page
    response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Request")
    return response


def render_fragment(
    partial: str, *, page_url: str, status: int = 200, **context: Any
) -> BaseResponse:
    """Render a fragment that only exists inside the page at `page_url`.

    HTMX swaps get the fragment; anything else (a reload, a bookmark, a crawler) is sent to the
    page, so no one is ever shown a bare fragment.
    """
    if not wants_partial():
        return redirect(page_url)
    response = make_response(render_template(partial, **context), status)
    response.vary.add("HX-Request")
    return response


def redirect_after_post(location: str) -> BaseResponse:
    """Answer a state change: HX-Redirect for HTMX, 303 See Other for a plain form."""
    if request.htmx:
        response = make_response("", 204)
        response.headers["HX-Redirect"] = location
        return response
    return redirect(location, 303)


def timeago(moment: datetime | None, now: datetime | None = None) -> str:
    """A moment as people say it: "just now", "12 min ago", "3 h ago", "5 days ago"."""
    if moment is None:
        return "never"
    seconds = ((now or datetime.now(UTC)) - moment).total_seconds()
    if seconds < 0:
        return "in the future"
    for limit, unit, size in ((60, None, 1), (3600, "min", 60), (86400, "h", 3600)):
        if seconds < limit:
            return "just now" if unit is None else f"{int(seconds // size)} {unit} ago"
    days = int(seconds // 86400)
    return f"{days} day{'s' if days != 1 else ''} ago"


def audit_value(value: Any) -> str:
    """A detail value as text: strings as they are, anything else as compact JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def register_template_helpers(app: Flask) -> None:
    """Every filter and global the templates use, registered here and nowhere else."""
    app.add_template_filter(timeago)
    app.add_template_filter(audit_value)
    # The quota buckets by id, for the quota labels and styles of the inventory and SIM page.
    # Jinja takes any value as a global; Flask's stubs allow only callables.
    app.add_template_global(QUOTA_STATES_BY_ID, "quota_states")  # type: ignore[arg-type]
