"""Sign-in lockouts: a source (or every new device) refused for an account after failures."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import Model
from webapp.models.base import check_one_of, utcnow

# Failures are counted per account and source (an address, or a device that signed in
# before), and per account over every device that never did.
LOCKOUT_SCOPES = ("source", "device", "new_devices")


class LoginLockout(Model):
    """An account refused to a source until `until`, unless an admin lifts it first."""

    __tablename__ = "login_lockouts"
    __table_args__ = (
        check_one_of("scope", LOCKOUT_SCOPES, name="scope_valid"),
        sa.Index("ix_login_lockouts_until", "until"),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), index=True)
    scope: Mapped[str] = mapped_column(sa.String(16))
    # The address or device id the failures came from; None for the new-devices scope.
    source: Mapped[str | None] = mapped_column(sa.String(64))
    started_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    until: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    lifted_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    lifted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
