"""Signed-in sessions: one row per sign-in, checked on every request, revocable on the server."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import Model
from webapp.models.base import utcnow


class UserSession(Model):
    """One sign-in of one user on one device, alive until signed out, ended or expired.

    The browser holds the session token in the signed session cookie and, with "keep me
    signed in", the remember token in a cookie of its own; only their SHA-256 hashes are
    stored. Deleting the row ends both.
    """

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    remember_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    # Slides with use (the idle timeout), or fixed at sign-in plus REMEMBER_DAYS when remembered.
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    user_agent: Mapped[str] = mapped_column(sa.String(255), default="")
    ip: Mapped[str | None] = mapped_column(sa.String(64))

    @property
    def remembered(self) -> bool:
        """True when the sign-in chose "keep me signed in" (and still has its token)."""
        return self.remember_hash is not None
