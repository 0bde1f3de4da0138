"""Keyset pages: the page every list returns and the opaque cursors that continue it."""

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from webapp.errors import QueryError
from webapp.inputs import is_storable

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One keyset page and where the next one starts (None on the last)."""

    items: list[T]
    next_cursor: str | None

    @classmethod
    def from_rows(cls, rows: Sequence[T], limit: int, cursor_of: Callable[[T], str]) -> "Page[T]":
        """The page of rows read with `limit + 1`: the extra row only says that more follow."""
        items = list(rows[:limit])
        return cls(items, cursor_of(items[-1]) if len(rows) > limit else None)


def encode_cursor(position: dict) -> str:
    """An opaque cursor for a keyset position."""
    return base64.urlsafe_b64encode(json.dumps(position, separators=(",", ":")).encode()).decode()


def decode_cursor(raw: str | None, *keys: str) -> dict | None:
    """The keyset position of a cursor made by encode_cursor, or QueryError if it is not one."""
    if raw is None or raw == "":
        return None
    try:
        position = json.loads(base64.urlsafe_b64decode(raw.encode("ascii")))
    except (ValueError, UnicodeError, binascii.Error, RecursionError):
        raise QueryError("cursor", "is not a cursor this API returned") from None
    if not isinstance(position, dict) or any(
        not isinstance(position.get(k), str) or not is_storable(position[k]) for k in keys
    ):
        raise QueryError("cursor", "is not a cursor this API returned")
    return position
