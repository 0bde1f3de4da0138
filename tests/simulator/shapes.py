"""Contract fixtures (written from the 1NCE reference notes) and a JSON shape matcher."""

import json
import re
from pathlib import Path

CONTRACTS = Path(__file__).parent / "contracts"

# String formats recognised in the examples; a value in the same place must have the same one.
FORMATS = {
    "plain_time": re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"),
    "iso_millis": re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$"),
    "iso_zulu": re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"),
    "iso_seconds": re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"),
    "day": re.compile(r"^\d{4}-\d{2}-\d{2}$"),
    "decimal": re.compile(r"^-?\d+(\.\d+)?$"),
}


def short(value: object) -> str:
    """A repr cut to a readable length for assertion messages."""
    text = repr(value)
    return text if len(text) <= 200 else text[:200] + "..."


def contract(name: str) -> dict:
    """A contract fixture: `example`, plus optional `optional` and `nullable` key paths."""
    return json.loads((CONTRACTS / f"{name}.json").read_text(encoding="utf-8"))


def string_format(value: str) -> str | None:
    """The first known format the example string has."""
    return next((name for name, pattern in FORMATS.items() if pattern.match(value)), None)


def assert_matches(actual: object, name: str) -> None:
    """Assert that `actual` has the shape of contract `name`."""
    spec = contract(name)
    assert_shape(
        actual,
        spec["example"],
        optional=frozenset(spec.get("optional", ())),
        nullable=frozenset(spec.get("nullable", ())),
    )


def assert_shape(
    actual: object,
    example: object,
    path: str = "$",
    optional: frozenset = frozenset(),
    nullable: frozenset = frozenset(),
) -> None:
    """Same keys (minus optional ones), same JSON types and same string formats, recursively."""
    if actual is None and path in nullable:
        return
    if isinstance(example, dict):
        assert isinstance(actual, dict), f"{path}: expected an object, got {short(actual)}"
        missing = {key for key in example if key not in actual and f"{path}.{key}" not in optional}
        extra = set(actual) - set(example)
        assert not missing, f"{path}: missing keys {sorted(missing)}"
        assert not extra, f"{path}: unexpected keys {sorted(extra)}"
        for key in actual:
            assert_shape(actual[key], example[key], f"{path}.{key}", optional, nullable)
    elif isinstance(example, list):
        assert isinstance(actual, list), f"{path}: expected an array, got {short(actual)}"
        for item in actual:
            assert_shape(item, example[0], f"{path}[]", optional, nullable)
    elif isinstance(example, bool):
        assert isinstance(actual, bool), f"{path}: expected a boolean, got {short(actual)}"
    elif isinstance(example, int | float):
        assert isinstance(actual, int | float) and not isinstance(actual, bool), (
            f"{path}: expected a number, got {short(actual)}"
        )
    elif isinstance(example, str):
        assert isinstance(actual, str), f"{path}: expected a string, got {short(actual)}"
        expected_format = string_format(example)
        if expected_format is not None:
            assert FORMATS[expected_format].match(actual), (
                f"{path}: {actual!r} is not formatted like {example!r}"
            )
    else:
        assert actual is None, f"{path}: expected null, got {short(actual)}"
