"""Property-based fuzzing of every page route: hostile parameters and forms, never a 500.

The routes come from the app's URL map, so a new page is fuzzed without being listed here;
the API (`/api/v1`, in its OpenAPI document) is schemathesis' (`test_fuzz_api.py`), and
`test_every_route_is_fuzzed` fails on a route that neither suite reaches. Hypothesis draws a
query string and a form body (known field names and random ones; random Unicode, huge and
non-ASCII numbers, dates out of range, long text, NUL bytes), the path's variables (a real id
or ICCID, or anything), with and without htmx, for each role. A request holding a NUL byte
anywhere must be refused with a 4xx; no request may answer 5xx. Examples are few and
derandomized, so a run is quick and the same every time.
"""

import re
from datetime import date
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.routing import Rule

from tests.helpers import PASSWORD
from tests.test_access import ICCID
from webapp.apikeys.services import create_api_key
from webapp.extensions import db
from webapp.models import BulkJob, SavedView

ROLES = ["anonymous", "viewer", "operator", "admin"]
EXAMPLES_PER_ROUTE = 6
# Rules neither fuzz suite needs to try, and why.
NOT_FUZZED = {
    "static": "files from disk through Werkzeug's send_from_directory, no code of ours",
}
API_PREFIX = "/api/v1/"
VARIABLE = re.compile(r"<(?:[^<>:]+:)?([^<>:]+)>")
# Served under /api/v1 but not part of the API document: fuzzed here with the pages.
PAGES_UNDER_API = {"ops.api_metrics"}
# Parameter names the pages read (request.args/form, the Flask-WTF forms), so that values
# reach the parsers and services, not only the unknown-parameter path.
FIELD_NAMES = [
    "q", "query", "name", "status", "quota_state", "online", "connectivity", "label", "country",
    "operator", "has_label", "unseen", "sort", "dir", "limit", "cursor", "after", "before",
    "start", "end", "range", "action", "actor", "target", "outcome", "scope", "iccid", "value",
    "new_label", "payload", "payment_method", "imei_lock", "reason", "failure_cause",
    "confirmed", "request_key", "polling", "email", "password", "current_password",
    "new_password", "confirm", "remember", "role", "active", "expires_days", "next", "kind",
]  # fmt: skip

TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
NUMBERS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(["0", "-1", "1e999", "NaN", "0x10", "\u0661\u0660", "\u00b2", "9" * 40]),
)
DATES = st.one_of(
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(date.isoformat),
    st.sampled_from(["2024-02-30", "0000-01-01", "10000-01-01", "-001-01-01", "2024-1-1"]),
)
KNOWN = st.sampled_from(
    ["inventory", "usage", "label", "enable", "disable", "all", "selected", "7d", "30d", "6m",
     "admin", "viewer", "operator", "true", "false", "on", "read", "write", ICCID, "/", ""]
)  # fmt: skip
WITH_NUL = st.builds(lambda before, after: f"{before}\x00{after}", TEXT, TEXT)
LONG = st.integers(min_value=101, max_value=5000).map(lambda n: "x" * n)
VALUE = st.one_of(KNOWN, TEXT, NUMBERS, DATES, LONG, WITH_NUL)
FIELDS = st.dictionaries(
    st.one_of(st.sampled_from(FIELD_NAMES), st.text(min_size=1, max_size=8)),
    st.one_of(VALUE, st.lists(VALUE, min_size=1, max_size=3)),
    max_size=6,
)


def api_document_rules(app: Flask) -> set[str]:
    """The endpoints schemathesis fuzzes: every rule under /api/v1 but the metrics."""
    return {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(API_PREFIX) and rule.endpoint not in PAGES_UNDER_API
    }


def page_rules(app: Flask) -> list[tuple[Rule, str]]:
    """Every (rule, method) this module fuzzes: all but the API's and NOT_FUZZED."""
    skipped = api_document_rules(app) | set(NOT_FUZZED)
    return [
        (rule, method)
        for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule)
        if rule.endpoint not in skipped
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    ]


def path_variable(converter: str, known: Any) -> st.SearchStrategy:
    """A path variable: the real one most of the time, else anything its converter may see."""
    if converter == "DatabaseIdConverter":
        anything = st.one_of(st.integers(min_value=0, max_value=2**40), NUMBERS)
    else:
        anything = st.one_of(TEXT.filter(lambda text: "/" not in text), WITH_NUL)
    if known is None:
        return anything
    return st.one_of(st.just(known), st.just(known), anything)


def request_strategy(rule: Rule, known: dict[str, Any]) -> st.SearchStrategy:
    """Path variables, query string, form body and htmx header of one request to `rule`."""
    variables = st.fixed_dictionaries(
        {
            name: path_variable(type(converter).__name__, known.get(name))
            for name, converter in rule._converters.items()
        }
    )
    return st.tuples(variables, FIELDS, FIELDS, st.booleans())


def holds_nul(value: Any) -> bool:
    """Whether a drawn value (a string, list or dict of them) holds a NUL byte."""
    if isinstance(value, dict):
        return any(holds_nul(key) or holds_nul(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return any(map(holds_nul, value))
    return "\x00" in str(value)


def build_path(rule: Rule, variables: dict[str, Any]) -> str:
    """The rule's path with `variables` put in, percent-encoded, as a client would send it.

    Not `rule.build`: its converters refuse what does not fit them, and the point is to send it.
    """
    return VARIABLE.sub(lambda match: quote(str(variables[match[1]]), safe=""), rule.rule)


class Session:
    """A test client signed in as one role, signing in again when a request signed it out."""

    def __init__(self, client: Any, make_user: Any, role: str) -> None:
        self.client, self.make_user, self.role = client, make_user, role
        self.sign_in()

    def sign_in(self) -> None:
        """Sign in as a new user of the role (the last one may have been deactivated)."""
        if self.role == "anonymous":
            return
        user = self.make_user(self.role)
        response = self.client.post("/login", data={"email": user.email, "password": PASSWORD})
        assert response.status_code == 303, response.text

    def after(self, response: Any) -> None:
        """Sign in again if the request ended the session (sign-out, a fuzzed admin change)."""
        if self.role != "anonymous" and response.headers.get("Location", "").startswith("/login"):
            self.sign_in()


@pytest.fixture
def known_ids(app, make_user, make_sim) -> dict[str, Any]:
    """Real values for the path variables, by name: rows that exist, so views go deep."""
    make_sim(iccid=ICCID)
    victim = make_user("viewer")
    view = SavedView(user_id=victim.id, name="fuzz", query="q=1")
    job = BulkJob(
        user_id=victim.id,
        actor=victim.email,
        action="enable",
        values={},
        scope="All SIMs",
        selection={"view_args": {}},
        state="failed",
        total=0,
    )
    db.session.add_all([view, job])
    key, _ = create_api_key(name="fuzz", scope="read")
    db.session.commit()
    return {
        "iccid": ICCID,
        "user_id": victim.id,
        "view_id": view.id,
        "job_id": job.id,
        "prefix": key.prefix,
        "kind": "inventory",
        "name": "label",
    }


@pytest.mark.parametrize("role", ROLES)
def test_no_page_answers_5xx_to_hostile_input(app, client, make_user, known_ids, role):
    session = Session(client, make_user, role)
    for rule, method in page_rules(app):
        fuzz_route(session, rule, method, known_ids)


def fuzz_route(session: Session, rule: Rule, method: str, known: dict[str, Any]) -> None:
    """Send EXAMPLES_PER_ROUTE drawn requests to one rule and method; fail on a 5xx."""

    @settings(
        max_examples=EXAMPLES_PER_ROUTE,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(drawn=request_strategy(rule, known))
    def fuzz(drawn):
        variables, query, form, htmx = drawn
        if method == "GET":
            form = {}
        response = session.client.open(
            build_path(rule, variables),
            method=method,
            query_string=query,
            data=form,
            headers={"HX-Request": "true"} if htmx else {},
        )
        response.get_data()  # a streamed body (CSV exports) fails while it is read
        where = f"{method} {rule.rule} as {session.role}: {response.status_code}"
        assert response.status_code < 500, where
        if holds_nul((variables, query, form)):
            assert 400 <= response.status_code < 500, where
        session.after(response)

    fuzz()


def test_every_route_is_fuzzed(app):
    """Each rule is fuzzed here or by schemathesis (it is in the API document), or exempt."""
    from webapp.api.openapi import build_openapi

    documented = {
        (method.upper(), path.replace("{", "<").replace("}", ">"))
        for path, operations in build_openapi()["paths"].items()
        for method in operations
    }
    fuzzed_here = {(rule.endpoint, method) for rule, method in page_rules(app)}
    missing, unbuildable = [], []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in NOT_FUZZED:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            in_api = any(
                method == doc_method and _same_route(rule.rule, doc_path)
                for doc_method, doc_path in documented
            )
            if (rule.endpoint, method) in fuzzed_here:
                converters = {type(c).__name__ for c in rule._converters.values()}
                if not converters <= {"DatabaseIdConverter", "UnicodeConverter"}:
                    unbuildable.append(f"{method} {rule.rule}: converters {sorted(converters)}")
            elif not in_api:
                missing.append(f"{method} {rule.rule} ({rule.endpoint})")
    stale = sorted(set(NOT_FUZZED) - {rule.endpoint for rule in app.url_map.iter_rules()})
    assert not missing and not unbuildable and not stale, "\n".join(
        [
            "routes no fuzz suite reaches (under /api/v1 but not in the OpenAPI document?):",
            *missing,
            "routes whose path variables the page fuzzer cannot draw:",
            *unbuildable,
            "exemptions that name no endpoint:",
            *stale,
        ]
    )


def _same_route(rule: str, documented: str) -> bool:
    """Whether a Werkzeug rule and an OpenAPI path (`{x}` as `<x>`) name the same URLs."""
    strip = lambda text: [  # noqa: E731
        part if not part.startswith("<") else "<>" for part in text.strip("/").split("/")
    ]
    rule_parts, doc_parts = strip(rule), strip(documented)
    return len(rule_parts) == len(doc_parts) and all(
        a == b or "<>" in (a, b) for a, b in zip(rule_parts, doc_parts, strict=True)
    )
