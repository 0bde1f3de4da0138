"""The stored SIM documents (the API's fast path) against the OpenAPI `Sim` schema.

PostgreSQL builds each SIM's JSON when the SIM is written (`sim_document()`, defined where
webapp/api/reads.py says); the schema documents it by hand. They must say the same thing:
the same fields at every level, with the documented types and values.
"""

import json
import re
from pathlib import Path

import sqlalchemy as sa

from webapp.api.openapi import build_openapi
from webapp.api.reads import SIM_DOCUMENT_MIGRATION
from webapp.extensions import db

JSON_TYPES = {
    "string": str,
    "number": (int, float),
    "integer": int,
    "boolean": bool,
    "object": dict,
    "null": type(None),
}
VERSIONS = Path(__file__).resolve().parents[2] / "migrations" / "versions"


def mismatches(value, schema: dict, path: str = "$") -> list[str]:
    """Where `value` differs from `schema`: missing or undocumented fields, types, values."""
    if "enum" in schema and value not in schema["enum"]:
        return [f"{path}: {value!r} is not one of {schema['enum']}"]
    kinds = schema.get("type")
    if kinds is not None:
        kinds = [kinds] if isinstance(kinds, str) else kinds
        is_bool = isinstance(value, bool)
        if not any(
            isinstance(value, JSON_TYPES[k]) and (k == "boolean" or not is_bool) for k in kinds
        ):
            return [f"{path}: {value!r} is not {kinds}"]
    if not isinstance(value, dict) or "properties" not in schema:
        return []
    fields, documented = set(value), set(schema["properties"])
    found = [f"{path}.{name}: not documented" for name in sorted(fields - documented)]
    found += [f"{path}.{name}: documented, never sent" for name in sorted(documented - fields)]
    for name in sorted(fields & documented):
        found += mismatches(value[name], schema["properties"][name], f"{path}.{name}")
    return found


def test_every_stored_document_is_what_the_schema_documents(make_fleet):
    make_fleet(sims=300, usage_days=10)  # every profile: idle, exhausted, disabled, offline...
    schema = build_openapi()["components"]["schemas"]["Sim"]
    bodies = db.session.scalars(sa.text("SELECT body FROM sim_documents")).all()
    assert len(bodies) == 300
    problems = {p for body in bodies for p in mismatches(json.loads(body), schema)}
    assert sorted(problems) == []


def test_reads_name_the_migration_that_defines_the_document_today():
    """The reference in webapp/api/reads.py follows each migration that redefines it."""
    defining = [
        path.name
        for path in sorted(VERSIONS.glob("*.py"))
        if re.search(r"CREATE (OR REPLACE )?FUNCTION sim_document\(", path.read_text())
    ]
    assert defining[-1].split("_")[1] == SIM_DOCUMENT_MIGRATION
