"""The fleet dashboard shows the synced fleet's KPIs, or says how it will fill."""

from bench.generate_fleet import load_fleet
from webapp.extensions import db


def test_empty_fleet_explains_itself(client, login):
    login("viewer")
    page = client.get("/")
    assert "No SIMs yet" in page.text
    assert "Not synced yet" in page.text


def test_kpis_of_a_loaded_fleet(app, client, login):
    load_fleet(db.session.connection(), sims=250, usage_days=3)
    db.session.commit()
    login("viewer")
    page = client.get("/")
    assert "No SIMs yet" not in page.text
    assert '250</span><span class="kpi-label">SIMs' in page.text
    assert "online now" in page.text
