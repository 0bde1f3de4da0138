"""The audit log page (in the admin area): filters in the URL, keyset pages newest first, and
a CSV export."""

import json

from flask import request, url_for

from webapp.audit import bp
from webapp.audit.services import (
    AuditFilters,
    iter_audit_rows,
    list_audit_actions,
    list_audit_events,
    record_audit,
)
from webapp.csvexport import stream_csv
from webapp.errors import QueryError
from webapp.extensions import db
from webapp.pages import render_fragment, render_page

EXPORT_HEADER = ("id", "at", "actor", "action", "target", "ip", "details")


@bp.get("/audit")
def log():
    """The audit log, newest first, narrowed by the filters in the URL."""
    error: QueryError | None
    try:
        filters = AuditFilters.from_args(request.args)
        page = list_audit_events(filters=filters, cursor=request.args.get("before"))
    except QueryError as exc:
        filters, page, error, status = None, None, exc, 400
    else:
        error, status = None, 200
    return render_page(
        "audit/log.html",
        "audit/_log.html",
        status,
        filters=filters,
        result=page,
        error=error,
        actions=list_audit_actions(),
    )


@bp.get("/audit/rows")
def rows():
    """The next rows of the log as table rows, for the infinite scroll."""
    try:
        filters = AuditFilters.from_args(request.args)
        page = list_audit_events(filters=filters, cursor=request.args.get("before"))
    except QueryError as exc:
        return exc.message, 400
    return render_fragment(
        "audit/_rows.html",
        # mypy fears the dict could hold url_for's `_external`; it holds filter names only.
        page_url=url_for("admin.audit.log", **filters.as_args()),  # type: ignore[arg-type]
        filters=filters,
        result=page,
    )


@bp.get("/audit.csv")
def export():
    """The filtered log as a streamed, spreadsheet-safe CSV download (the export is audited)."""
    try:
        filters = AuditFilters.from_args(request.args)
    except QueryError as exc:
        return exc.message, 400
    record_audit("audit.export", details=filters.as_args())
    db.session.commit()
    rows = (
        (row.id, row.at.isoformat(), *row[2:-1], json.dumps(row.details, ensure_ascii=False))
        for row in iter_audit_rows(filters=filters)
    )
    return stream_csv("audit-log.csv", EXPORT_HEADER, rows)
