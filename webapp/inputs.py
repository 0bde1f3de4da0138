"""The request edge: what a path id, parameter, form field or JSON body may hold.

Checked once, here, so that no route hands PostgreSQL or Python a value they refuse (a NUL
byte, an id beyond PostgreSQL's `integer`, a date Python cannot count past, JSON nested
deeper than the parser's stack) and answers 500. Each check answers 4xx with a clear message:
problem+json on the API, the error page or a form error in the UI.
"""

import json
import re
from datetime import date
from typing import Any

from flask import Flask, abort, request
from werkzeug.routing import IntegerConverter, Map

from webapp.errors import QueryError

# The largest value of PostgreSQL's `integer`, the type of every id a URL carries.
MAX_DATABASE_ID = 2**31 - 1
# Dates people may ask for: wide enough for any real query, far enough from Python's year 1
# and 9999 (and PostgreSQL's own bounds) that the range arithmetic of every page stays valid.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2999, 12, 31)
# No API body is more than two levels deep; 32 leaves room and keeps any walk short.
MAX_JSON_DEPTH = 32
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_WHOLE_NUMBER = re.compile("[0-9]+")
_ISO_DAY = re.compile("[0-9]{4}-[0-9]{2}-[0-9]{2}")


def is_storable(text: str) -> bool:
    """Whether PostgreSQL can store `text`: no NUL byte and no lone surrogate (not UTF-8)."""
    return _UNSTORABLE.search(text) is None


class DatabaseIdConverter(IntegerConverter):
    """`<int:...>` in a URL: ASCII digits up to MAX_DATABASE_ID, else no route matches (404)."""

    regex = "[0-9]{1,10}"

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_DATABASE_ID)
        super().__init__(map, *args, **kwargs)


def parse_whole_number(raw: str, *, field: str, minimum: int, maximum: int) -> int:
    """A number of ASCII digits from `minimum` to `maximum`, else QueryError naming `field`."""
    if not _WHOLE_NUMBER.fullmatch(raw) or not minimum <= int(raw) <= maximum:
        raise QueryError(field, f"must be a whole number from {minimum} to {maximum}")
    return int(raw)


def parse_day(raw: str, *, field: str) -> date:
    """A `YYYY-MM-DD` date from EARLIEST_DATE to LATEST_DATE, else QueryError naming `field`."""
    try:
        day = date.fromisoformat(raw) if _ISO_DAY.fullmatch(raw) else None
    except ValueError:
        day = None
    if day is None or not EARLIEST_DATE <= day <= LATEST_DATE:
        raise QueryError(
            field, f"must be a date as YYYY-MM-DD from {EARLIEST_DATE} to {LATEST_DATE}"
        )
    return day


def load_json(raw: bytes | str) -> Any:
    """Parse a JSON document; ValueError when it is invalid, too deep or holds unstorable text."""
    try:
        document = json.loads(raw)
    except RecursionError:
        raise ValueError(f"nested deeper than {MAX_JSON_DEPTH} levels") from None
    _check_json(document)
    return document


def _check_json(document: Any) -> None:
    """Walk the document without recursion: depth and every key and string."""
    pending = [(document, 1)]
    while pending:
        value, depth = pending.pop()
        if depth > MAX_JSON_DEPTH:
            raise ValueError(f"nested deeper than {MAX_JSON_DEPTH} levels")
        if isinstance(value, str) and not is_storable(value):
            raise ValueError("text holds a NUL character or an unpaired surrogate")
        if isinstance(value, dict):
            pending.extend((key, depth + 1) for key in value)
            pending.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            pending.extend((item, depth + 1) for item in value)


def refuse_unstorable_text() -> None:
    """400 when the path, a parameter, a form field or a header holds a NUL byte."""
    # items(multi=True): every value of a repeated parameter (`?q=a&q=b`), not only the first.
    texts = [
        request.path,
        *(text for pair in request.args.items(multi=True) for text in pair),
        *(value for _, value in request.headers.items()),
    ]
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        # Parsing the form enforces MAX_CONTENT_LENGTH and the form limits (413) first.
        texts += [text for pair in request.form.items(multi=True) for text in pair]
    if not all(map(is_storable, texts)):
        abort(400, "The request holds a NUL character, which no field accepts.")


def bound_url_ids(app: Flask) -> None:
    """Make `<int:...>` in every route a DatabaseIdConverter (before any route is added)."""
    app.url_map.converters["int"] = DatabaseIdConverter
