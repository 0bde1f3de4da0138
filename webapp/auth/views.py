"""Sign-in and sign-out pages."""

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from webapp.audit import record_audit
from webapp.auth import bp
from webapp.auth.forms import LoginForm
from webapp.auth.services import authenticate, is_safe_next
from webapp.extensions import db, limiter
from webapp.models import User
from webapp.models.base import utcnow


def _login_account_key() -> str:
    """Throttle key for the account being tried, so one address can't guess one password."""
    return "login-account:" + request.form.get("email", "").strip().lower()


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_IP"], methods=["POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    key_func=_login_account_key,
    methods=["POST"],
    deduct_when=lambda response: response.status_code != 303,
)
def login():
    """Show the sign-in form and sign the user in."""
    next_url = request.args.get("next")
    if current_user.is_authenticated:
        return redirect(next_url if is_safe_next(next_url) else url_for("fleet.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        # DataRequired has checked both; wtforms types every field's data as optional.
        email, password = form.email.data or "", form.password.data or ""
        user = authenticate(email=email, password=password)
        if user is None:
            record_audit("auth.login_failed", actor_label=email.strip().lower()[:254])
            db.session.commit()
            flash("Wrong email or password.", "error")
            return render_template("auth/login.html", form=form), 401
        _start_session(user, remember=form.remember.data)
        return redirect(next_url if is_safe_next(next_url) else url_for("fleet.dashboard"), 303)
    return render_template("auth/login.html", form=form)


def _start_session(user: User, *, remember: bool) -> None:
    """Sign `user` in with a fresh session and record it."""
    session.clear()
    login_user(user, remember=remember)
    session.permanent = True
    session["remember"] = remember
    session["last_active"] = utcnow()
    user.last_login_at = utcnow()
    record_audit("auth.login", actor=user, details={"remember": remember})
    db.session.commit()


@bp.post("/logout")
@login_required
def logout():
    """Sign the user out."""
    record_audit("auth.logout")
    db.session.commit()
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"), 303)
