"""Column and constraint helpers shared by the models."""

from collections.abc import Iterable
from datetime import UTC, datetime

import sqlalchemy as sa


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def check_one_of(column: str, values: Iterable[str], *, name: str) -> sa.CheckConstraint:
    """A CHECK that `column` holds one of `values`, built from the constant the code uses."""
    return sa.CheckConstraint(sa.column(column).in_(list(values)), name=name)
