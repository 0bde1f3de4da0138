"""User management pages."""

from flask import Response, flash, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from webapp.admin import bp
from webapp.admin.forms import ROLE_CHOICES, UserCreateForm, UserUpdateForm
from webapp.admin.services import UserError, create_user, list_users, update_user
from webapp.auth.services import role_required
from webapp.extensions import db
from webapp.models import Role, User
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
