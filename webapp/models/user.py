"""People who sign in to the web UI, with one role each."""

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import Model
from webapp.models.base import check_one_of, utcnow


class Role(enum.StrEnum):
    """What a user may do: viewers read, operators act on SIMs, admins also manage the app."""

    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        """The role's place in the order viewer < operator < admin."""
        return list(Role).index(self)

    def allows(self, minimum: "Role") -> bool:
        """True when this role has at least the rights of `minimum`."""
        return self.rank >= minimum.rank


class User(UserMixin, Model):
    """Someone who signs in to the web UI with an email and password."""

    __tablename__ = "users"
    __table_args__ = (
        check_one_of("role", [role.value for role in Role], name="role_valid"),
        sa.CheckConstraint("email = lower(email)", name="email_lowercase"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(16), default=Role.VIEWER.value)
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # Set by an admin, or when a sign-in shows the password no longer meets the rules.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    password_changed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # The IANA zone times are shown in (validated with zoneinfo); None: the browser's own.
    time_zone: Mapped[str | None] = mapped_column(sa.String(64))

    @property
    def is_active(self) -> bool:
        """Flask-Login's check: a deactivated user cannot sign in."""
        return self.active

    @property
    def role_enum(self) -> Role:
        """The stored role as a `Role`."""
        return Role(self.role)

    def can(self, minimum: Role | str) -> bool:
        """True when the user's role has at least the rights of `minimum`."""
        return self.role_enum.allows(Role(minimum))

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"
