"""The dry run: counts, sample, validation, and that it changes nothing."""

import re

import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import BulkJob


def preview(client, **form):
    return client.post("/bulk/preview", data=form)


def disabled(sim):
    """The SIM, disabled as the last sync saw it (make_sim always creates enabled SIMs)."""
    sim.status = "Disabled"
    db.session.commit()
    return sim


def test_disabling_counts_only_sims_not_yet_disabled(client, login, make_sim):
    login("operator")
    sims = [disabled(make_sim()) if n < 2 else make_sim() for n in range(5)]
    response = preview(
        client, action="disable", scope="selected", iccid=[sim.iccid for sim in sims]
    )
    assert response.status_code == 200
    text = response.text
    assert "5 selected SIMs" in text
    assert "<dt>Will change</dt><dd><strong>3</strong>" in text
    assert "<dt>Already as asked</dt><dd>2 " in text
    assert all(sim.iccid in text for sim in sims[2:])
    assert not any(f">{sim.iccid}</a>" in text for sim in sims[:2])  # the sample shows changes
    assert "Disable 3 SIMs" in text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BulkJob)) == 0


def test_all_matching_the_view_uses_the_inventory_filters(client, login, make_sim):
    login("operator")
    make_sim(label="pump 1")
    disabled(make_sim(label="pump 2"))
    make_sim(label="meter 1")
    response = preview(client, action="enable", scope="all", **{"filter.q": "pump"})
    assert "All SIMs matching q=pump" in response.text
    assert "<dt>SIMs selected</dt>\n      <dd>2</dd>" in response.text
    assert "<dt>Will change</dt><dd><strong>1</strong>" in response.text
    # The confirm form posts the same request again.
    assert 'name="filter.q" value="pump"' in response.text
    assert 'name="scope" value="all"' in response.text


def test_a_label_already_set_is_not_a_change_and_labels_are_escaped(client, login, make_sim):
    login("admin")
    same = make_sim(label="<b>x</b>")
    other = make_sim(label="y")
    response = preview(
        client,
        action="label",
        new_label="<b>x</b>",
        scope="selected",
        iccid=[same.iccid, other.iccid],
    )
    assert "<dt>Will change</dt><dd><strong>1</strong>" in response.text
    assert "<b>x</b>" not in response.text
    assert "&lt;b&gt;x&lt;/b&gt;" in response.text


def test_a_top_up_warns_that_it_is_an_order(client, login, make_sim):
    login("operator")
    sim = make_sim()
    response = preview(client, action="topup", scope="selected", iccid=[sim.iccid])
    assert "order that 1NCE invoices" in response.text
    assert "Top up 1 SIM<" in response.text


def test_nothing_to_change_offers_no_confirm(client, login, make_sim):
    login("operator")
    sim = make_sim()
    response = preview(client, action="enable", scope="selected", iccid=[sim.iccid])
    assert "Nothing to do" in response.text
    assert 'action="/bulk"' not in response.text


def test_bad_requests_are_explained(client, login, make_sim):
    login("operator")
    sim = make_sim()
    cases = [
        ({"action": "reboot", "scope": "selected", "iccid": sim.iccid}, "Choose an action"),
        ({"action": "label", "scope": "selected", "iccid": sim.iccid}, "Give a label"),
        ({"action": "enable", "scope": "selected"}, "Select at least one SIM"),
        ({"action": "enable", "scope": "selected", "iccid": "x' OR 1=1"}, "malformed"),
        ({"action": "enable", "scope": "all", "filter.online": "maybe"}, "filter online"),
    ]
    for form, message in cases:
        response = preview(client, **form)
        assert response.status_code == 422, form
        assert message in response.text, form


def test_confirming_twice_makes_one_job(client, login, make_sim):
    login("operator")
    sim = make_sim()
    form = {"action": "topup", "scope": "selected", "iccid": sim.iccid}
    page = preview(client, **form).text
    key = re.search(r'name="request_key" value="([^"]+)"', page).group(1)
    first = client.post("/bulk", data={**form, "request_key": key})
    second = client.post("/bulk", data={**form, "request_key": key})
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BulkJob)) == 1
    assert preview(client, **form).text.count(key) == 0  # every preview has a new key
