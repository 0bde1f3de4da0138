"""1NCE accounts. One is configured from the environment today; every SIM row carries its
account from day one so several accounts need no data migration later."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import Model
from webapp.models.base import utcnow


class ProviderAccount(Model):
    """A 1NCE API account: its URL and client id, never its secret."""

    __tablename__ = "provider_accounts"
    __table_args__ = (sa.UniqueConstraint("api_url", "client_id", name="uq_provider_accounts_api"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    api_url: Mapped[str] = mapped_column(sa.String(300))
    client_id: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
