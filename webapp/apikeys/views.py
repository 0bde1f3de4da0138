"""API-key pages (in the admin area): list, create (the key is shown once), revoke after a
confirmation."""

from flask import Response, abort, flash, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from webapp.apikeys import bp
from webapp.apikeys.forms import ApiKeyCreateForm
from webapp.apikeys.services import (
    api_key_creators,
    create_api_key,
    get_api_key,
    list_api_keys,
    revoke_api_key,
)
from webapp.extensions import db
from webapp.models.base import utcnow
from webapp.pages import redirect_after_post, render_page


def _render_keys(form: ApiKeyCreateForm, status: int = 200) -> Response:
    keys = list_api_keys()
    return render_page(
        "api_keys/keys.html",
        "api_keys/_keys.html",
        status,
        keys=keys,
        creators=api_key_creators(keys),
        form=form,
        now=utcnow(),
    )


@bp.get("")
def index():
    """Every API key with its state, and the form to create one."""
    return _render_keys(ApiKeyCreateForm())


@bp.post("")
def create():
    """Create a key and show it this one time (the answer is never cached or stored)."""
    form = ApiKeyCreateForm()
    if not form.validate_on_submit():
        return _render_keys(form, 422)
    try:
        key, plaintext = create_api_key(
            name=form.name.data or "",  # DataRequired has checked it; wtforms types it optional
            scope=form.scope.data,
            created_by=current_user,
            expires_days=form.expires_days.data,
        )
    except ValueError as exc:
        form.name.errors = [str(exc)]
        return _render_keys(form, 422)
    db.session.commit()
    # Rendered in the answer to the POST itself: a redirect would need the key kept somewhere
    # (the session cookie is signed, not encrypted) to show it on the next page.
    response = render_page(
        "api_keys/created.html", "api_keys/_created.html", key=key, plaintext=plaintext
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<prefix>/revoke")
def confirm_revoke(prefix: str) -> ResponseReturnValue:
    """Ask before revoking a key (a page, so it works without JavaScript)."""
    key = get_api_key(prefix=prefix)
    if key is None:
        abort(404)
    return render_page("api_keys/revoke.html", "api_keys/_revoke.html", key=key)


@bp.post("/<prefix>/revoke")
def revoke(prefix: str) -> ResponseReturnValue:
    """Revoke a key: requests with it get 401 from now on."""
    key = revoke_api_key(prefix=prefix, actor=current_user)
    if key is None:
        abort(404)
    db.session.commit()
    flash(f"API key {key.name} ({key.prefix}) revoked.", "success")
    return redirect_after_post(url_for("admin.api_keys.index"))
