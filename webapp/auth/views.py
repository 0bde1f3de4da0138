"""Sign-in, sign-out, and the account page (password, sessions, sign out everywhere)."""

from flask import current_app, flash, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_limiter import RequestLimit
from flask_login import current_user, login_required

from webapp.audit import record_audit
from webapp.auth import bp
from webapp.auth.forms import LoginForm, PasswordChangeForm, TimeZoneForm
from webapp.auth.lockouts import (
    audit_throttled,
    count_failure,
    failure_counters,
    find_block,
    remember_device,
)
from webapp.auth.services import (
    PasswordChangeError,
    authenticate,
    change_own_password,
    is_safe_next,
    update_time_zone,
)
from webapp.auth.sessions import (
    current_session,
    end_user_sessions,
    list_sessions,
    set_remember_cookie,
    sign_in,
    sign_out,
)
from webapp.extensions import db, limiter
from webapp.pages import redirect_after_post, render_page


def _attempted_email() -> str:
    return request.form.get("email", "").strip().lower()[:254]


def _audit_address_throttled(_limit: RequestLimit) -> None:
    """Record a sign-in refused because its address sent too many (before any check)."""
    audit_throttled(email=_attempted_email(), scope="address")
    db.session.commit()


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_IP"],
    methods=["POST"],
    on_breach=_audit_address_throttled,
)
def login():
    """Show the sign-in form and sign the user in."""
    next_url = request.args.get("next")
    target = next_url if is_safe_next(next_url) else url_for("fleet.dashboard")
    if current_user.is_authenticated:
        return redirect(target)
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form)
    # DataRequired has checked both; wtforms types every field's data as optional.
    email, password = (form.email.data or "").strip().lower(), form.password.data or ""
    counters = failure_counters(email=email)
    if block := find_block(counters):
        audit_throttled(email=email, scope=block.counter.scope)
        db.session.commit()
        minutes = -(-block.retry_after // 60)
        flash(f"Too many failed sign-ins from here. Try again in {minutes} min.", "error")
        refused = make_response(render_template("auth/login.html", form=form), 429)
        refused.headers["Retry-After"] = str(block.retry_after)
        return refused
    user = authenticate(email=email, password=password)
    if user is None:
        record_audit("auth.login_failed", actor_label=email)
        count_failure(counters)
        db.session.commit()
        flash("Wrong email or password.", "error")
        return render_template("auth/login.html", form=form), 401
    remember = bool(form.remember.data)
    new = sign_in(user, remember=remember)
    user.last_login_at = new.record.created_at
    record_audit("auth.login", actor=user, details={"remember": remember})
    db.session.commit()
    response = redirect(target, 303)
    if new.remember_token:
        set_remember_cookie(response, new.remember_token)
    remember_device(response, user)
    return response


@bp.post("/logout")
@login_required
def logout():
    """Sign the user out: this session ends on the server, wherever its cookie was copied."""
    record_audit("auth.logout")
    sign_out()
    db.session.commit()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"), 303)


def _render_account(
    form: PasswordChangeForm, status: int = 200, zone_form: TimeZoneForm | None = None
) -> ResponseReturnValue:
    return render_page(
        "auth/account.html",
        "auth/_account.html",
        status,
        form=form,
        zone_form=zone_form or TimeZoneForm(formdata=None, time_zone=current_user.time_zone or ""),
        sessions=list_sessions(user=current_user),
        current=current_session(),
    )


@bp.get("/account")
@login_required
def account():
    """The signed-in user's password form, time zone and sessions."""
    return _render_account(PasswordChangeForm())


@bp.post("/account/time-zone")
@login_required
def change_time_zone() -> ResponseReturnValue:
    """Choose the zone one's pages show times in, or the browser's own."""
    form = TimeZoneForm()
    if not form.validate_on_submit():
        return _render_account(PasswordChangeForm(formdata=None), 422, zone_form=form)
    try:
        update_time_zone(user=current_user, time_zone=form.time_zone.data)
    except ValueError as error:
        form.time_zone.errors = [str(error)]
        return _render_account(PasswordChangeForm(formdata=None), 422, zone_form=form)
    db.session.commit()
    zone = current_user.time_zone or "your browser's time zone"
    flash(f"Times are now shown in {zone}.", "success")
    return redirect_after_post(url_for("auth.account"))


@bp.post("/account/password")
@login_required
def change_password() -> ResponseReturnValue:
    """Change one's own password (the current one required); other sessions end."""
    form = PasswordChangeForm()
    if not form.validate_on_submit():
        return _render_account(form, 422)
    try:
        change_own_password(
            user=current_user,
            current_password=form.current_password.data or "",
            new_password=form.new_password.data or "",
            keep=current_session(),
        )
    except PasswordChangeError as exc:
        form.new_password.errors = [str(exc)]
        return _render_account(form, 422)
    db.session.commit()
    flash("Your password is changed; your other sessions are signed out.", "success")
    return redirect_after_post(url_for("auth.account"))


@bp.post("/account/sign-out-everywhere")
@login_required
def sign_out_everywhere():
    """End every session of the signed-in user, this one included."""
    user = current_user._get_current_object()
    event = record_audit("auth.sign_out_everywhere")
    sign_out()
    event.details = {"sessions_ended": 1 + end_user_sessions(user=user)}
    db.session.commit()
    flash("You are signed out everywhere.", "info")
    return redirect_after_post(url_for("auth.login"))
