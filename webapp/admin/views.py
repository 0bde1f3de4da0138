"""User management pages: users, their sessions, sign-in lockouts."""

from flask import Response, flash, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from webapp.admin import bp
from webapp.admin.forms import ROLE_CHOICES, UserCreateForm, UserUpdateForm
from webapp.admin.services import (
    UserError,
    create_user,
    end_sessions_of,
    list_users,
    require_password_change,
    update_user,
)
from webapp.auth.lockouts import lift_lockout, list_lockouts
from webapp.auth.services import role_required
from webapp.auth.sessions import list_sessions
from webapp.extensions import db
from webapp.models import LoginLockout, Role, User
from webapp.pages import redirect_after_post, render_page


@bp.before_request
@role_required(Role.ADMIN)
def require_admin():
    """Every admin page is for admins only."""


def _render_users(form: UserCreateForm, status: int = 200) -> Response:
    return render_page(
        "admin/users.html",
        "admin/_users.html",
        status,
        users=list_users(),
        lockouts=list_lockouts(),
        form=form,
        role_choices=ROLE_CHOICES,
    )


@bp.get("/users")
def users():
    """List users with their roles, and the form to add one."""
    return _render_users(UserCreateForm())


@bp.post("/users")
def create():
    """Create a user from the form."""
    form = UserCreateForm()
    if not form.validate_on_submit():
        return _render_users(form, 422)
    try:
        # DataRequired has checked both; wtforms types every field's data as optional.
        user = create_user(
            email=form.email.data or "",
            password=form.password.data or "",
            role=Role(form.role.data),
        )
    except UserError as exc:
        form.email.errors = [str(exc)]
        return _render_users(form, 422)
    db.session.commit()
    flash(f"User {user.email} created.", "success")
    return redirect_after_post(url_for("admin.users"))


@bp.post("/users/<int:user_id>")
def update(user_id: int) -> ResponseReturnValue:
    """Change a user's role or deactivate / reactivate them."""
    user = db.get_or_404(User, user_id)
    form = UserUpdateForm()
    if not form.validate_on_submit():
        flash("Invalid change.", "error")
        return redirect_after_post(url_for("admin.users"))
    try:
        update_user(
            user=user,
            actor=current_user,
            role=Role(form.role.data),
            active=form.active.data == "1",
        )
    except UserError as exc:
        flash(str(exc), "error")
        return redirect_after_post(url_for("admin.users"))
    db.session.commit()
    flash(f"User {user.email} updated.", "success")
    return redirect_after_post(url_for("admin.users"))


@bp.get("/users/<int:user_id>/sessions")
def user_sessions(user_id: int) -> ResponseReturnValue:
    """A user's live sessions, each of which an admin can end."""
    user = db.get_or_404(User, user_id)
    return render_page(
        "admin/user_sessions.html",
        "admin/_user_sessions.html",
        user=user,
        sessions=list_sessions(user=user),
        current=None,
        end_url=lambda s: url_for("admin.end_session", user_id=user.id, session_id=s.id),
    )


@bp.post("/users/<int:user_id>/sessions/<int:session_id>/end")
def end_session(user_id: int, session_id: int) -> ResponseReturnValue:
    """End one session of a user: its cookies stop working at once."""
    user = db.get_or_404(User, user_id)
    ended = end_sessions_of(user=user, actor=current_user, session_id=session_id)
    db.session.commit()
    flash("Session ended." if ended else "That session had already ended.", "success")
    return redirect_after_post(url_for("admin.user_sessions", user_id=user.id))


@bp.post("/users/<int:user_id>/sessions/end")
def end_all_sessions(user_id: int) -> ResponseReturnValue:
    """End every session of a user (remember-me included)."""
    user = db.get_or_404(User, user_id)
    ended = end_sessions_of(user=user, actor=current_user)
    db.session.commit()
    flash(f"{ended} session{'' if ended == 1 else 's'} of {user.email} ended.", "success")
    return redirect_after_post(url_for("admin.user_sessions", user_id=user.id))


@bp.post("/users/<int:user_id>/require-password-change")
def require_new_password(user_id: int) -> ResponseReturnValue:
    """Make a user choose a new password before they can go on."""
    user = db.get_or_404(User, user_id)
    require_password_change(user=user, actor=current_user)
    db.session.commit()
    flash(f"{user.email} must choose a new password at their next page.", "success")
    return redirect_after_post(url_for("admin.users"))


@bp.post("/lockouts/<int:lockout_id>/lift")
def lift(lockout_id: int) -> ResponseReturnValue:
    """Lift a sign-in lockout: the locked-out source may sign in again at once."""
    lockout = db.get_or_404(LoginLockout, lockout_id)
    lift_lockout(lockout=lockout, actor=current_user)
    db.session.commit()
    flash(f"Lockout of {lockout.email} lifted.", "success")
    return redirect_after_post(url_for("admin.users"))
