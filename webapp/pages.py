"""The one place that decides between a full page and an HTMX partial."""

from flask import make_response, redirect, render_template
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
