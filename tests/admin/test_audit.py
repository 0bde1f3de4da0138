"""The audit log page: newest first, keyset pages, filters in the URL, escaping, CSV export."""

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import AuditEvent

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
ICCID = "8988228066000000042"
XSS = '<img src=x onerror="alert(1)">'


def add_events(*rows: dict) -> None:
    """Insert audit rows set-based; each row names at least `action` and `at`."""
    defaults = {"actor": "system", "target": None, "details": {}}
    db.session.execute(sa.insert(AuditEvent), [{**defaults, **row} for row in rows])
    db.session.commit()


def shown(html: str) -> list[str]:
    """The targets of the rows on a page, in order."""
    cells = re.findall(r'<td data-label="Target">(.*?)</td>', html)
    return [re.sub(r"<[^>]+>", "", cell) for cell in cells]


def older_link(html: str) -> str | None:
    match = re.search(
        r'<tr class="more-row">\s*<td colspan="5">\s*<a class="button" href="([^"]+)"', html
    )
    return match and match.group(1).replace("&amp;", "&")


def rows_link(html: str) -> str | None:
    match = re.search(r'hx-get="([^"]+)"\s+hx-trigger="click, revealed"', html)
    return match and match.group(1).replace("&amp;", "&")


@pytest.fixture
def admin(login):
    return login("admin")


def test_newest_first_in_keyset_pages(client, admin):
    # 120 events, pairs sharing one timestamp, so the id breaks ties across page boundaries.
    add_events(
        *(
            {"action": "x.y", "at": T0 + timedelta(seconds=n // 2), "target": f"t{n}"}
            for n in range(120)
        )
    )
    page = client.get("/admin/audit?action=x.y").text
    targets = shown(page)
    assert len(targets) == 50
    assert targets[0] == "t119"
    seen = list(targets)
    link = older_link(page)
    assert "before=" in link
    older = client.get(link)
    assert older.status_code == 200
    assert shown(older.text) == [f"t{n}" for n in range(69, 19, -1)]
    fragment = client.get(rows_link(older.text), headers={"HX-Request": "true"}).text
    assert "<table" not in fragment
    seen += shown(older.text) + shown(fragment)
    assert seen == [f"t{n}" for n in range(119, -1, -1)]  # no gaps, no repeats
    assert older_link(fragment) is None


def test_filters_narrow_the_log_and_stay_in_the_url(client, admin):
    add_events(
        {"action": "api.sim.update", "at": T0, "actor": "api key cron (abc)", "target": ICCID},
        {"action": "api.sim.sms", "at": T0 + timedelta(days=1), "target": ICCID},
        {"action": "apikey.create", "at": T0 + timedelta(days=2), "target": "k1"},
        {
            "action": "user.login",
            "at": T0 + timedelta(days=3),
            "actor": "a@example.com",
            "target": "a@example.com",
        },
        {"action": "user.login", "at": T0 + timedelta(days=4), "target": "b@example.com"},
    )
    cases = {
        "action=user.login": ["b@example.com", "a@example.com"],
        "action=user.lo": [],
        "action=api.*": [ICCID, ICCID],
        "action=api*": ["k1", ICCID, ICCID],
        "action=nothing.*": [],
        "actor=a@example.com": ["a@example.com"],
        "actor=api+key+cron+(abc)": [ICCID],
        f"target={ICCID}": [ICCID, ICCID],
        f"target={ICCID}&action=api.sim.sms": [ICCID],
        "start=2026-11-21&end=2026-11-23": ["a@example.com", "k1", ICCID],
        "start=2026-11-24&end=2026-11-24": ["b@example.com"],
        "end=2026-11-20&action=api.*": [ICCID],
    }
    for query, expected in cases.items():
        response = client.get(f"/admin/audit?{query}")
        assert response.status_code == 200, query
        assert shown(response.text) == expected, query


def test_paging_keeps_the_filters(client, admin):
    add_events(
        *(
            {
                "action": "api.sim.update" if n % 2 else "user.login",
                "at": T0 + timedelta(minutes=n),
                "target": f"t{n}",
            }
            for n in range(150)
        )
    )
    page = client.get("/admin/audit?action=api.*").text
    link = older_link(page)
    assert "action=api.*" in link
    assert shown(client.get(link).text) == [f"t{n}" for n in range(49, 0, -2)]
    assert 'value="api.*"' in page
    assert 'href="/admin/audit.csv?action=api.*"' in page


def test_htmx_filtering_answers_the_results_only(client, admin):
    add_events({"action": "user.login", "at": T0, "target": "x"})
    response = client.get("/admin/audit?action=user.login", headers={"HX-Request": "true"})
    assert 'id="audit-results"' in response.text
    assert "<form" not in response.text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("start=yesterday", "must be a date"),
        ("start=2026-11-22&end=2026-11-21", "must not be after"),
        ("before=not-a-cursor", "is not a cursor"),
        ("actor=" + "x" * 255, "at most 254"),
    ],
)
def test_bad_filters_are_explained(client, admin, query, message):
    response = client.get(f"/admin/audit?{query}")
    assert response.status_code == 400
    assert message in response.text
    assert client.get(f"/admin/audit/rows?{query}").status_code == 400
    if not query.startswith("before="):  # the export ignores the page it was started from
        assert client.get(f"/admin/audit.csv?{query}").status_code == 400


def test_values_from_users_and_1nce_are_escaped(client, admin):
    add_events(
        {
            "action": "api.sim.update",
            "at": T0,
            "actor": XSS,
            "target": XSS,
            "details": {"label": [None, XSS], XSS: 1},
        }
    )
    page = client.get("/admin/audit").text
    assert XSS not in page
    assert "<img src=x" not in page
    assert page.count("&lt;img src=x") == 4
    assert "target=%3Cimg+src" in page  # the filter links are URL-encoded
    assert "<dt>label</dt><dd>[null, &#34;&lt;img" in page


def test_a_sim_change_shows_each_value_before_and_after(client, admin):
    changes = {
        "label": {"before": None, "after": XSS},
        "status": {"before": "Enabled", "after": "Disabled"},
    }
    add_events({"action": "sim.label", "at": T0, "actor": "ops", "details": {"changes": changes}})
    page = client.get("/admin/audit").text
    assert "status: Enabled → Disabled" in page
    assert "label: — → &lt;img" in page and XSS not in page
    exported = list(csv.DictReader(io.StringIO(client.get("/admin/audit.csv").text)))
    assert json.loads(exported[-1]["details"])["changes"] == changes


def test_csv_export_is_filtered_formula_safe_and_audited(client, admin):
    add_events(
        {
            "action": "api.sim.update",
            "at": T0,
            "target": '=HYPERLINK("http://x")',
            "details": {"label": "+1"},
        },
        {"action": "user.login", "at": T0 + timedelta(hours=1), "actor": "@evil", "target": "y"},
    )
    response = client.get("/admin/audit.csv?action=api.*")
    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "text/csv"
    assert 'filename="audit-log.csv"' in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [row["action"] for row in rows] == ["api.sim.update"]
    assert rows[0]["target"] == '\'=HYPERLINK("http://x")'
    assert rows[0]["details"] == '{"label": "+1"}'
    assert rows[0]["at"] == T0.isoformat()

    everything = list(csv.DictReader(io.StringIO(client.get("/admin/audit.csv").text)))
    assert [row["actor"] for row in everything if row["action"] == "user.login"] == ["'@evil"]
    export = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "audit.export").order_by(AuditEvent.id)
    ).all()
    assert [(e.actor_id, e.details) for e in export] == [
        (admin.id, {"action": "api.*"}),
        (admin.id, {}),
    ]


def test_csv_export_reads_every_row_in_batches(client, admin):
    add_events(
        *(
            {"action": "bulk.row", "at": T0 + timedelta(seconds=n % 7), "target": str(n)}
            for n in range(2500)
        )
    )
    rows = list(csv.DictReader(io.StringIO(client.get("/admin/audit.csv?action=bulk.row").text)))
    assert sorted(int(row["target"]) for row in rows) == list(range(2500))
    keys = [(row["at"], int(row["id"])) for row in rows]
    assert keys == sorted(keys, reverse=True)
