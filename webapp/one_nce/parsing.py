"""Lenient readers for 1NCE wire values: numbers as strings, five date formats, missing keys.

Each reader takes the JSON object and a key, returns None when the key is missing or null,
and raises RecordError naming the key when a value is present but cannot be understood.
"""

import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

T = TypeVar("T")
# 1NCE's ICCIDs have 19 or 20 digits and E.118 allows 22; the floor refuses only what cannot be one.
ICCID_PATTERN = re.compile(r"[0-9]{10,22}")


class RecordError(ValueError):
    """A value in a 1NCE record is present but unusable; the message names the field."""


class ShapeError(RecordError):
    """A body's top level is not the expected shape; `keys` are its top-level keys, if any."""

    def __init__(self, expected: str, body: Any) -> None:
        if isinstance(body, Mapping):
            # Enough to recognise the shape in a log line, never a whole hostile body.
            self.keys = tuple(sorted(str(key)[:40] for key in body))[:10]
            found = f"an object with keys {', '.join(self.keys)}" if self.keys else "{}"
        else:
            self.keys = ()
            found = f"a {type(body).__name__}"
        super().__init__(f"expected {expected}, got {found}")


def is_iccid(value: object) -> bool:
    """True for a string that can be an ICCID: 10 to 22 ASCII digits."""
    return isinstance(value, str) and ICCID_PATTERN.fullmatch(value) is not None


def require(value: T | None, key: str) -> T:
    """Return `value`, or fail because the field is required."""
    if value is None:
        raise RecordError(f"{key}: missing")
    return value


def as_object(raw: Any, what: str = "record") -> Mapping[str, Any]:
    """The JSON value as an object, or a RecordError."""
    if not isinstance(raw, Mapping):
        raise RecordError(f"{what}: expected an object, got {type(raw).__name__}")
    return raw


def read_object(data: Mapping[str, Any], key: str) -> Mapping[str, Any] | None:
    """A nested object, or None when missing."""
    raw = data.get(key)
    return None if raw is None else as_object(raw, key)


def read_text(data: Mapping[str, Any], key: str) -> str | None:
    """A string; whole numbers are accepted and kept as their digits."""
    raw = data.get(key)
    if raw is None:
        return None
    if isinstance(raw, str):
        return raw
    if isinstance(raw, int) and not isinstance(raw, bool):
        return str(raw)
    raise RecordError(f"{key}: expected text, got {type(raw).__name__}")


def read_decimal(data: Mapping[str, Any], key: str) -> Decimal | None:
    """A number that may arrive as a JSON number or a string; floats go through their repr."""
    raw = data.get(key)
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise RecordError(f"{key}: expected a number, got {type(raw).__name__}")
    try:
        # str() of a float is its shortest round-trip repr, so 479.949998 stays 479.949998.
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        raise RecordError(f"{key}: not a number: {str(raw)[:40]!r}") from None
    if not value.is_finite():
        raise RecordError(f"{key}: not a finite number")
    return value


def read_int(data: Mapping[str, Any], key: str) -> int | None:
    """A whole number that may arrive as a JSON number or a string ("7", "7.0")."""
    value = read_decimal(data, key)
    if value is None:
        return None
    if value != value.to_integral_value():
        raise RecordError(f"{key}: expected a whole number, got {value}")
    return int(value)


def read_bool(data: Mapping[str, Any], key: str) -> bool | None:
    """A boolean; the strings "true"/"false" and the numbers 0/1 are accepted too."""
    raw = data.get(key)
    if raw is None or isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
        return raw.strip().lower() == "true"
    if isinstance(raw, int) and raw in (0, 1):
        return bool(raw)
    raise RecordError(f"{key}: expected true or false, got {str(raw)[:40]!r}")


def parse_timestamp(raw: str) -> datetime:
    """Parse ISO 8601 (`Z`, `+0000`, `+00:00`, millis or not) or `YYYY-MM-DD HH:MM:SS` (UTC)."""
    value = datetime.fromisoformat(raw.strip())
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def read_timestamp(data: Mapping[str, Any], key: str) -> datetime | None:
    """A timezone-aware UTC datetime from any of 1NCE's date formats."""
    raw = data.get(key)
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str):
        raise RecordError(f"{key}: expected a date, got {type(raw).__name__}")
    try:
        return parse_timestamp(raw)
    except ValueError:
        raise RecordError(f"{key}: not a date: {raw[:40]!r}") from None


def read_date(data: Mapping[str, Any], key: str) -> date | None:
    """A calendar day, `YYYY-MM-DD` (a full timestamp is cut to its UTC day)."""
    raw = data.get(key)
    if isinstance(raw, str) and len(raw.strip()) == 10:
        try:
            return date.fromisoformat(raw.strip())
        except ValueError:
            raise RecordError(f"{key}: not a date: {raw[:40]!r}") from None
    moment = read_timestamp(data, key)
    return None if moment is None else moment.date()


def read_label(data: Mapping[str, Any], key: str) -> str | None:
    """A v1 plain string or a v2 `{id, description}` object, as its text."""
    raw = data.get(key)
    if isinstance(raw, Mapping):
        return read_text(raw, "description")
    return read_text(data, key)


def read_list(data: Mapping[str, Any], key: str) -> list[Any]:
    """A JSON array, or an empty list when missing."""
    raw = data.get(key)
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise RecordError(f"{key}: expected a list, got {type(raw).__name__}")
    return raw


def read_nested(
    data: Mapping[str, Any], key: str, parse: Callable[[Mapping[str, Any]], T]
) -> T | None:
    """Parse a nested object with `parse`, or None when missing."""
    nested = read_object(data, key)
    return None if nested is None else parse(nested)
