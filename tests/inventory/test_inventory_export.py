"""The CSV export of the current view: every row, in order, formula-safe."""

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal


def rows_of(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_export_is_the_current_view_in_its_order(client, login, varied_fleet):
    login("viewer")
    response = client.get("/sims/export.csv?country=Germany&sort=avg_30d&dir=desc")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = rows_of(response)
    germany = [s for s in varied_fleet if s.country == "Germany"]
    expected = sorted(germany, key=lambda s: (s.avg_daily_mb_30d, s.iccid), reverse=True)
    assert [r["iccid"] for r in rows] == [s.iccid for s in expected]
    first = rows[0]
    assert first["country"] == "Germany" and first["data_total_mb"] == "500.000000"
    assert first["data_left_percent"] and first["forecast_ends_on"].startswith("202")
    assert first["forecast_reason"] in ("runs_out", "expires")


def test_export_says_why_the_quota_ends_and_what_expiry_leaves_unused(client, login, make_sim):
    make_sim(
        data_exhausted_on=date(2027, 3, 1),
        data_expires_at=datetime(2026, 12, 5, 12, tzinfo=UTC),
        data_unused_at_expiry_mb=Decimal(245),
    )
    make_sim(data_exhausted_on=date(2026, 12, 20), data_expires_at=None)
    login("viewer")
    rows = rows_of(client.get("/sims/export.csv"))
    expires, runs_out = rows
    assert (expires["forecast_ends_on"], expires["forecast_reason"]) == ("2026-12-05", "expires")
    assert Decimal(expires["forecast_unused_at_expiry_mb"]) == 245
    assert expires["data_runs_out_on"] == "2027-03-01"
    assert (runs_out["forecast_ends_on"], runs_out["forecast_reason"]) == ("2026-12-20", "runs_out")
    assert runs_out["forecast_unused_at_expiry_mb"] == ""


def test_export_reads_every_sim_across_batches(client, login, make_sim, monkeypatch):
    monkeypatch.setattr("webapp.inventory.services.EXPORT_BATCH", 7)
    for n in range(30):
        make_sim(label=f"unit {n}")
    login("viewer")
    rows = rows_of(client.get("/sims/export.csv"))
    assert len(rows) == 30 and len({r["iccid"] for r in rows}) == 30


def test_export_cells_cannot_run_as_formulas(client, login, make_sim):
    make_sim(label='=HYPERLINK("http://evil.example","x")')
    make_sim(label="+cmd|' /C calc'!A0")
    make_sim(label="-2+3")
    make_sim(label="@SUM(1)")
    login("viewer")
    labels = sorted(r["label"] for r in rows_of(client.get("/sims/export.csv")))
    assert all(label.startswith("'") for label in labels), labels


def test_export_refuses_a_bad_view(client, login):
    login("viewer")
    assert client.get("/sims/export.csv?sort=nope").status_code == 400
