"""The audit log page: filters in the URL, keyset pages newest first, and a CSV export."""

import json
from typing import Any

from flask import render_template, request

from webapp.admin import bp
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
from webapp.pages import render_page

EXPORT_HEADER = ("id", "at", "actor", "action", "target", "ip", "details")


@bp.app_template_filter("audit_value")
def audit_value(value: Any) -> str:
    """A detail value as text: strings as they are, anything else as compact JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


@bp.get("/audit")
def audit():
    """The audit log, newest first, narrowed by the filters in the URL."""
    try:
        filters = AuditFilters.from_args(request.args)
        page = list_audit_events(filters=filters, cursor=request.args.get("before"))
    except QueryError as exc:
        filters, page, error, status = None, None, exc, 400
    else:
        error, status = None, 200
    return render_page(
        "admin/audit.html",
        "admin/_audit.html",
        status,
        filters=filters,
        result=page,
        error=error,
        actions=list_audit_actions(),
    )


@bp.get("/audit/rows")
def audit_rows():
    """The next rows of the log as table rows, for the infinite scroll."""
    try:
        filters = AuditFilters.from_args(request.args)
        page = list_audit_events(filters=filters, cursor=request.args.get("before"))
    except QueryError as exc:
        return exc.message, 400
    return render_template("admin/_audit_rows.html", filters=filters, result=page)


@bp.get("/audit.csv")
def audit_export():
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
