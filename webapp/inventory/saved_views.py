"""Saved views of the inventory: named filter sets, one list per user."""

from urllib.parse import parse_qsl, urlencode

import sqlalchemy as sa

from webapp.audit import record_audit
from webapp.errors import QueryError
from webapp.extensions import db
from webapp.inventory.services import view_args
from webapp.models import SavedView, User
from webapp.sim_queries import SimFilters

MAX_NAME = 100
MAX_QUERY = 2000  # saved_views.query


class SavedViewError(ValueError):
    """A view cannot be saved as asked (empty or long name); the message says why."""


def list_saved_views(*, user: User) -> list[SavedView]:
    """The user's saved views by name."""
    return list(
        db.session.scalars(
            sa.select(SavedView).where(SavedView.user_id == user.id).order_by(SavedView.name)
        )
    )


def save_view(*, user: User, name: str, query: str) -> SavedView:
    """Save the view `query` under `name`, replacing the user's view of that name; audited."""
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise SavedViewError(f"A view needs a name of 1 to {MAX_NAME} characters.")
    # Only the view's own parameters are kept: no cursor, nothing unknown.
    args = view_args(dict(parse_qsl(query)))
    try:
        SimFilters.from_args(args)
    except QueryError as error:
        raise SavedViewError(f"The view cannot be saved: {error.field} {error.message}.") from None
    query = urlencode(args)
    if len(query) > MAX_QUERY:
        raise SavedViewError(f"The view's filters are too long to save ({MAX_QUERY} at most).")
    view = db.session.scalar(
        sa.select(SavedView).where(SavedView.user_id == user.id, SavedView.name == name)
    )
    if view is None:
        view = SavedView(user_id=user.id, name=name, query=query)
        db.session.add(view)
    view.query = query
    record_audit("saved_view.save", target=name, details={"query": query})
    db.session.commit()
    return view


def delete_saved_view(*, user: User, view_id: int) -> bool:
    """Delete one of the user's views; False if the user has no such view. Audited."""
    view = db.session.scalar(
        sa.select(SavedView).where(SavedView.user_id == user.id, SavedView.id == view_id)
    )
    if view is None:
        return False
    db.session.delete(view)
    record_audit("saved_view.delete", target=view.name, details={"query": view.query})
    db.session.commit()
    return True
