"""The Sync page: freshness per kind, recent runs, and "sync now"."""

import sqlalchemy as sa
from flask import abort, flash, url_for

from webapp.audit import record_audit
from webapp.auth.services import role_required
from webapp.extensions import db
from webapp.models import Role, SyncRun
from webapp.pages import redirect_after_post, render_page
from webapp.sync import bp
from webapp.sync.services import KINDS, get_freshness
from webapp.tasks import enqueue

RECENT_RUNS = 20


def _render():
    freshness = get_freshness()
    recent = db.session.scalars(sa.select(SyncRun).order_by(SyncRun.id.desc()).limit(RECENT_RUNS))
    busy = any(row["last"] and row["last"].outcome == "running" for row in freshness)
    return render_page(
        "sync/page.html", "sync/_status.html", freshness=freshness, runs=list(recent), busy=busy
    )


@bp.get("")
@role_required(Role.OPERATOR)
def index():
    """Per-kind freshness, the recent runs, and buttons to sync now."""
    return _render()


@bp.post("/<kind>")
@role_required(Role.OPERATOR)
def sync_now(kind: str):
    """Queue a run of `kind` now (at most one queued per kind)."""
    if kind not in KINDS:
        abort(404)
    enqueue("worker.jobs.sync_start", kind, dedupe_key=f"sync-now-{kind}")
    record_audit("sync.start", target=kind)
    db.session.commit()
    flash(f"{kind.capitalize()} sync queued.", "success")
    return redirect_after_post(url_for("sync.index"))
