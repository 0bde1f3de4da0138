"""The one place that decides between a full page and an HTMX partial."""

from datetime import UTC, datetime

from flask import Flask, make_response, redirect, render_template
from htmx_flask import request


def wants_partial() -> bool:
    """True for an HTMX request that swaps a fragment (not boosted, not a history restore)."""
    return bool(request.htmx) and not (request.htmx.boosted or request.htmx.history_restore_request)


def render_page(page: str, partial: str, status: int = 200, **context):
    """Render `partial` for HTMX swaps and `page` (which includes it) otherwise."""
    template = partial if wants_partial() else page
    response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Request")
    return response


def redirect_after_post(location: str):
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


def register_template_helpers(app: Flask) -> None:
    """Filters the templates share."""
    app.add_template_filter(timeago)
