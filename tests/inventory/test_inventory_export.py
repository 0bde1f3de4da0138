"""The CSV export of the current view: every row, in order, formula-safe."""

import csv
import io


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
    assert first["data_left_percent"] and first["runs_out_on"].startswith("202")


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
