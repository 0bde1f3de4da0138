"""`flask sync run` and the Sync page."""

import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import Sim
from webapp.sync.services import run_now
from webapp.tasks import get_queue


def test_sync_run_all_prints_a_summary(app):
    result = app.test_cli_runner().invoke(args=["sync", "run", "all"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "inventory",
        "usage",
        "quotas",
        "events",
        "connectivity",
    ]
    assert "inventory: success" in lines[0]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Sim)) == 60


def test_sync_run_fails_without_1nce(make_app):
    app = make_app(ONCE_API_URL="http://127.0.0.1:1/management-api")
    # The command pushes the app's context itself (an AppGroup command).
    result = app.test_cli_runner().invoke(args=["sync", "run", "inventory"])
    assert result.exit_code == 1


def test_sync_page_shows_runs_and_queues_a_sync(client, login, once):
    run_now(kind="inventory", client=once)
    login("operator")
    page = client.get("/sync")
    assert page.status_code == 200
    assert "Inventory" in page.text and "success" in page.text
    response = client.post("/sync/usage", headers={"HX-Request": "true"})
    assert response.headers["HX-Redirect"] == "/sync"
    client.post("/sync/usage")  # a second click does not queue a second run
    assert get_queue("sync").count == 1


def test_sync_page_polls_while_a_sync_now_waits_in_the_queue(client, login, once):
    run_now(kind="inventory", client=once)
    login("operator")
    assert 'hx-trigger="every 2s"' not in client.get("/sync").text
    client.post("/sync/usage")
    assert 'hx-trigger="every 2s"' in client.get("/sync").text


def test_unknown_kind_is_404(client, login):
    login("admin")
    assert client.post("/sync/everything").status_code == 404
