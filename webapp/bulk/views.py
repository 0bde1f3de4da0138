"""Bulk action pages: the dry-run preview, the confirm, a job's progress and the recent jobs."""

from flask import abort, flash, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from webapp.auth.services import role_required
from webapp.bulk import bp
from webapp.bulk.forms import BulkInvalid, parse_bulk_request, view_args_of
from webapp.bulk.services import (
    ACTIONS,
    MAX_BULK_SIMS,
    BulkJobNotResumable,
    count_outcomes,
    create_bulk_job,
    get_bulk_job,
    list_bulk_items,
    list_bulk_jobs,
    new_request_key,
    preview_bulk,
    resume_bulk_job,
)
from webapp.errors import QueryError
from webapp.inputs import MAX_DATABASE_ID, parse_whole_number
from webapp.models import Role
from webapp.models.bulk import ITEM_OUTCOMES
from webapp.pages import redirect_after_post, render_page
from webapp.products import get_topup_info


@bp.get("")
@role_required(Role.OPERATOR)
def index():
    """The recent bulk jobs, newest first."""
    jobs = list_bulk_jobs(before=_before_job_id())
    return render_page("bulk/jobs.html", "bulk/_jobs.html", jobs=jobs, actions=ACTIONS)


@bp.post("/preview")
@role_required(Role.OPERATOR)
def preview():
    """Dry run: how many SIMs are selected and how many the action would change."""
    try:
        bulk_request = parse_bulk_request(request.form)
    except BulkInvalid as exc:
        return _invalid(exc)
    result = preview_bulk(request=bulk_request)
    return render_page(
        "bulk/preview.html",
        "bulk/_preview.html",
        preview=result,
        topup=get_topup_info() if bulk_request.action == "topup" else None,
        max_sims=MAX_BULK_SIMS,
        request_key=new_request_key(),
    )


@bp.post("")
@role_required(Role.OPERATOR)
def create():
    """Confirm a previewed action: record the job, queue it and show its progress."""
    try:
        bulk_request = parse_bulk_request(request.form)
    except BulkInvalid as exc:
        return _invalid(exc)
    job = create_bulk_job(
        request=bulk_request,
        user=current_user._get_current_object(),
        request_key=request.form.get("request_key", "")[:64],
    )
    flash(f"Bulk job {job.id} queued.", "success")
    return redirect_after_post(url_for("bulk.job", job_id=job.id))


@bp.get("/<int:job_id>")
@role_required(Role.OPERATOR)
def job(job_id: int) -> ResponseReturnValue:
    """A job's progress; once it has ended, its per-SIM results, a page at a time."""
    found = get_bulk_job(job_id=job_id) or abort(404)
    outcome = request.args.get("outcome") or None
    if outcome is not None and outcome not in ITEM_OUTCOMES:
        abort(400)
    results = None
    if not found.active:
        after = request.args.get("after") or None
        results = list_bulk_items(job_id=job_id, after=after, outcome=outcome)
    return render_page(
        "bulk/job.html",
        "bulk/_progress.html",
        job=found,
        action=ACTIONS[found.action],
        outcomes=count_outcomes(job_id=job_id) if results is not None else {},
        outcome=outcome,
        results=results,
    )


@bp.post("/<int:job_id>/resume")
@role_required(Role.OPERATOR)
def resume(job_id: int) -> ResponseReturnValue:
    """Queue a failed job again; SIMs already sent are not sent twice."""
    found = get_bulk_job(job_id=job_id) or abort(404)
    try:
        resume_bulk_job(job=found, user=current_user._get_current_object())
    except BulkJobNotResumable as exc:
        flash(str(exc), "error")
    return redirect_after_post(url_for("bulk.job", job_id=job_id))


def _invalid(error: BulkInvalid) -> ResponseReturnValue:
    """What is wrong with the bar's form, with a way back to the same view of the SIMs."""
    view_args = view_args_of(request.form)
    return render_page(
        "bulk/preview.html", "bulk/_preview.html", 422, invalid=error, view_args=view_args
    )


def _before_job_id() -> int | None:
    """The `before` job id of the recent jobs' next page (400 when it is not an id)."""
    raw = request.args.get("before")
    if not raw:
        return None
    try:
        return parse_whole_number(raw, field="before", minimum=1, maximum=MAX_DATABASE_ID)
    except QueryError as error:
        abort(400, f"{error.field} {error.message}")
