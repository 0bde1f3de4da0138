"""The one place that decides between a page and an HTMX partial; the templates' helpers."""

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask, Response, has_request_context, make_response, redirect, render_template
from flask_login import current_user
from htmx_flask import request
from werkzeug.wrappers import Response as BaseResponse

from webapp.figures import percent_of, rounded_parts
from webapp.models.sim import QUOTA_STATES_BY_ID
from webapp.sim_queries import forecast_of

# Past this, "1485 days ago" is hard to place: a moment reads as its date instead.
RELATIVE_HORIZON = timedelta(days=30)
# How each style of <time> reads; static/js/times.js writes the same in the viewer's zone.
TIME_FORMATS = {
    "date": "%Y-%m-%d",
    "datetime": "%Y-%m-%d %H:%M",
    "seconds": "%Y-%m-%d %H:%M:%S",
}


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


def display_zone() -> tzinfo:
    """The zone the server writes times in: the signed-in user's choice, else UTC.

    Without a choice, static/js/times.js rewrites them in the browser's zone.
    """
    name = getattr(current_user, "time_zone", None) if has_request_context() else None
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def is_dated(moment: datetime, now: datetime | None = None) -> bool:
    """True when a moment is too long ago to say as "n days ago" (RELATIVE_HORIZON)."""
    return (now or datetime.now(UTC)) - moment > RELATIVE_HORIZON


def timeago(
    moment: datetime | None, now: datetime | None = None, zone: tzinfo | None = None
) -> str:
    """A moment as people say it: "just now", "12 min ago", "3 h ago", "5 days ago", and its
    date ("2022-11-03", in `zone`, the user's by default) beyond RELATIVE_HORIZON."""
    if moment is None:
        return "never"
    seconds = ((now or datetime.now(UTC)) - moment).total_seconds()
    if seconds < 0:
        return "in the future"
    if is_dated(moment, now):
        return moment.astimezone(zone or display_zone()).strftime(TIME_FORMATS["date"])
    for limit, unit, size in ((60, None, 1), (3600, "min", 60), (86400, "h", 3600)):
        if seconds < limit:
            return "just now" if unit is None else f"{int(seconds // size)} {unit} ago"
    days = int(seconds // 86400)
    return f"{days} day{'s' if days != 1 else ''} ago"


def clock(moment: datetime, now: datetime | None = None, zone: tzinfo | None = None) -> str:
    """A moment as a time of day ("12:01"), with its date unless it is today, in `zone`
    (the user's by default)."""
    zone = zone or display_zone()
    local = moment.astimezone(zone)
    same_day = local.date() == (now or datetime.now(UTC)).astimezone(zone).date()
    return local.strftime("%H:%M" if same_day else TIME_FORMATS["datetime"])


@dataclass(frozen=True)
class Moment:
    """What a <time> element of the pages holds (the `time_tag` macro of macros.html)."""

    iso: str  # the machine-readable UTC moment
    title: str  # the same in words, shown on hover: "2026-12-04 12:01:00 UTC"
    style: str  # how static/js/times.js rewrites it in the viewer's zone ("ago": it does not)
    text: str  # as the server writes it: in the user's chosen zone, else UTC


def moment_of(moment: datetime, style: str = "datetime", now: datetime | None = None) -> Moment:
    """A moment in one of the styles "ago", "clock", "date", "datetime" or "seconds"."""
    utc = moment.astimezone(UTC)
    title = utc.strftime(TIME_FORMATS["seconds"]) + " UTC"
    if style == "ago":
        style = "date" if is_dated(moment, now) else "ago"
        text = timeago(moment, now)
    elif style == "clock":
        text = clock(moment, now)
    else:
        text = moment.astimezone(display_zone()).strftime(TIME_FORMATS[style])
    return Moment(utc.isoformat(timespec="seconds").replace("+00:00", "Z"), title, style, text)


def audit_value(value: Any) -> str:
    """A detail value as text: strings as they are, anything else as compact JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def register_template_helpers(app: Flask) -> None:
    """Every filter and global the templates use, registered here and nowhere else."""
    app.add_template_filter(timeago)
    app.add_template_filter(clock)
    app.add_template_filter(audit_value)
    # The quota buckets by id, for the quota labels and styles of the inventory and SIM page.
    # Jinja takes any value as a global; Flask's stubs allow only callables.
    app.add_template_global(QUOTA_STATES_BY_ID, "quota_states")  # type: ignore[arg-type]
    # A SIM's forecast (runs out or expires), for the inventory and the SIM page.
    app.add_template_global(forecast_of)
    # Moments in <time> elements, whole percentages, and parts that add up to their total.
    app.add_template_global(moment_of)
    app.add_template_global(percent_of)
    app.add_template_global(rounded_parts)
