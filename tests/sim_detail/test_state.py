"""The SIM page stays current: settled changes update every panel, and the Changes panel says
plainly what changed, by whom and when, including what changed outside Simfleet."""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from webapp.extensions import db, get_client
from webapp.models import Sim, SimAction, SimChange
from webapp.sim_detail.actions import settle_action
from webapp.sync.services import run_inventory

QUICK = (0.3, 0.3, 0.3, 0.3)
HTMX = {"HX-Request": "true"}


def request_and_settle(client, iccid: str, name: str, **form: str) -> SimAction:
    """Confirm an action on the SIM page and let 1NCE apply it."""
    client.post(f"/sims/{iccid}/actions/{name}", data=form | {"confirmed": "yes"})
    action = db.session.scalars(sa.select(SimAction).order_by(SimAction.id.desc())).first()
    assert action is not None
    settled = settle_action(action_id=action.id, client=get_client(), delays=QUICK)
    assert settled is not None and settled.state == "applied"
    return settled


def test_the_changes_panel_speaks_plainly(client, login, iccid):
    user = login("operator")
    action = request_and_settle(client, iccid, "disable", reason="stolen")
    assert action.previous == {"status": "Enabled"}
    page = client.get(f"/sims/{iccid}").text
    assert "Status: Enabled → Disabled" in page and f"by {user.email}" in page
    assert "applied <time" in page and "status=Disabled" not in page
    assert "— stolen" in page


def test_a_pending_change_names_what_it_waits_for(client, login, iccid, simulator):
    login("operator")
    simulator.fleet.writes.delay = timedelta(minutes=5)
    client.post(f"/sims/{iccid}/actions/label", data={"label": "tank 4", "confirmed": "yes"})
    page = client.get(f"/sims/{iccid}").text
    assert "Label: pump → tank 4" in page and "waiting for 1NCE to apply it" in page
    action = db.session.scalar(sa.select(SimAction))
    assert f"pending={action.id}" in page


def test_once_settled_every_dependent_panel_is_sent_out_of_band(client, login, iccid):
    login("operator")
    client.post(f"/sims/{iccid}/actions/label", data={"label": "tank 4", "confirmed": "yes"})
    action = db.session.scalar(sa.select(SimAction))
    still = client.get(f"/sims/{iccid}/actions?pending={action.id}", headers=HTMX).text
    assert 'hx-trigger="every 2s"' in still and "hx-swap-oob" not in still

    settle_action(action_id=action.id, client=get_client(), delays=QUICK)
    html = client.get(f"/sims/{iccid}/actions?pending={action.id}", headers=HTMX).text
    assert "every 2s" not in html
    for element in ('id="sim-title"', 'id="sim-summary"', 'id="sim-connectivity"',
                    'id="sim-actions"', 'id="flashes"'):  # fmt: skip
        assert html.count(element) == 1, element
    assert html.count('hx-swap-oob="true"') == 5
    title = html[html.index('id="sim-title"') : html.index("</h1>")]
    assert "tank 4" in title
    assert "1NCE applied the change: Label: pump → tank 4." in html


def test_the_panels_follow_a_status_change(client, login, iccid):
    login("operator")
    action = request_and_settle(client, iccid, "disable", reason="stolen")
    html = client.get(f"/sims/{iccid}/actions?pending={action.id}", headers=HTMX).text
    actions_panel = html[html.index('id="sim-actions"') :]
    assert "Enable SIM…" in actions_panel and "Disable SIM…" not in actions_panel
    connectivity = html[html.index('id="sim-connectivity"') : html.index('id="sim-actions"')]
    assert 'badge-failed">Disabled' in connectivity


def test_a_viewer_polling_gets_no_actions_panel(client, login, iccid):
    login("viewer")
    action = SimAction(iccid=iccid, action="update", requested={"label": "x"}, actor="a@b")
    action.state = "applied"
    db.session.add(action)
    db.session.commit()
    html = client.get(f"/sims/{iccid}/actions?pending={action.id}", headers=HTMX).text
    assert 'id="sim-summary"' in html and 'id="sim-actions"' not in html


def test_unknown_or_bad_pending_ids_send_the_panel_alone(client, login, iccid):
    login("viewer")
    for pending in ("999999", "x", "9" * 40, "1,,2"):
        html = client.get(f"/sims/{iccid}/actions?pending={pending}", headers=HTMX).text
        assert 'id="sim-pending"' in html and "hx-swap-oob" not in html


def test_a_change_made_outside_simfleet_is_shown_and_recorded(client, login, iccid, simulator):
    user = login("operator")
    request_and_settle(client, iccid, "disable", reason="stolen")
    # Someone enables it again in the 1NCE portal (or the demo's simulator restarted).
    simulator.fleet.controls.update_sim(iccid, status="Enabled")
    run_inventory(client=get_client())

    change = db.session.scalar(
        sa.select(SimChange).where(SimChange.iccid == iccid, SimChange.field == "status")
    )
    assert (change.old_value, change.new_value) == ("Disabled", "Enabled")
    page = client.get(f"/sims/{iccid}").text
    assert "Status is Enabled at 1NCE, not Disabled." in page
    assert f"{user.email} changed it to Disabled through Simfleet" in page
    assert "Outside Simfleet" in page and "Status: Disabled → Enabled" in page
    # The page shows what 1NCE reports, and offers to disable it again.
    assert "Disable SIM…" in page

    # Changing it again through Simfleet ends the contradiction.
    request_and_settle(client, iccid, "disable", reason="still stolen")
    assert "at 1NCE, not" not in client.get(f"/sims/{iccid}").text


def test_the_sync_seeing_a_change_before_its_confirmation_is_not_outside(client, login, iccid):
    login("operator")
    request_and_settle(client, iccid, "label", label="tank 4")
    db.session.add(
        SimChange(iccid=iccid, changed_at=datetime.now(UTC), field="label", old_value="pump",
                  new_value="tank 4")
    )  # fmt: skip
    db.session.commit()
    page = client.get(f"/sims/{iccid}").text
    assert "Outside Simfleet" not in page and "Label: pump → tank 4" in page


def test_an_imei_lock_changed_outside_is_recorded(client, login, iccid, simulator):
    login("viewer")
    run_inventory(client=get_client())
    locked = not db.session.get(Sim, iccid).imei_lock
    simulator.fleet.controls.update_sim(iccid, imei_lock=locked)
    run_inventory(client=get_client())
    change = db.session.scalar(
        sa.select(SimChange)
        .where(SimChange.iccid == iccid, SimChange.field == "imei_lock")
        .order_by(SimChange.id.desc())
        .limit(1)
    )
    assert change.new_value == str(locked).lower()
    words = "locked" if locked else "not locked"
    assert (
        f"IMEI lock: {'not locked' if locked else 'locked'} → {words}"
        in client.get(f"/sims/{iccid}").text
    )


def test_sims_found_by_the_first_inventory_pass_are_not_news(client, login, simulator):
    login("viewer")
    run_inventory(client=get_client())  # the first pass: every SIM of the account is "added"
    (first, *_) = simulator.fleet.iccids()
    assert "Added to the account" not in client.get(f"/sims/{first}").text

    (ordered,) = simulator.fleet.controls.add_sims(1)  # a later order of 1NCE
    run_inventory(client=get_client())
    page = client.get(f"/sims/{ordered}").text
    assert "Outside Simfleet" in page and "Added to the account" in page
