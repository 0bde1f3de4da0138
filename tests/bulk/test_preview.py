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


def test_a_label_preview_shows_each_sims_old_and_new_label(client, login, make_sim):
    login("operator")
    pump = make_sim(label="pump 7")
    bare = make_sim(label=None)
    response = preview(
        client,
        action="label",
        new_label="{label} (site A)",
        scope="selected",
        iccid=[pump.iccid, bare.iccid],
    )
    assert response.status_code == 200
    rows = re.findall(
        r'>(\d+)</a></td>\s*<td class="bulk-old">(.*?)</td>\s*<td class="bulk-arrow"'
        r' aria-hidden="true">→</td>\s*<td class="bulk-new">(.*?)</td>',
        response.text,
    )
    assert rows == [
        (pump.iccid, "pump 7", "pump 7 (site A)"),
        (bare.iccid, '<span class="muted">none</span>', "(site A)"),
    ]
    assert '<th scope="col">Label now</th>' in response.text
    assert "a pattern: each SIM's own label and ICCID fill it in" in response.text
    # The confirm posts the pattern, not one SIM's result.
    assert 'name="new_label" value="{label} (site A)"' in response.text


def test_an_iccid_pattern_gives_every_sim_its_own_label(client, login, make_sim):
    login("operator")
    named = make_sim(label="{iccid}")  # a field's value is never read as a pattern again
    other = make_sim(label="x")
    response = preview(
        client, action="label", new_label="SIM {iccid} {{A}}", scope="selected",
        iccid=[named.iccid, other.iccid],
    )  # fmt: skip
    assert f'<td class="bulk-new">SIM {named.iccid} {{A}}</td>' in response.text
    assert f'<td class="bulk-new">SIM {other.iccid} {{A}}</td>' in response.text
    assert "<dt>Will change</dt><dd><strong>2</strong>" in response.text


def test_a_pattern_that_leaves_the_label_as_it_is_changes_nothing(client, login, make_sim):
    login("operator")
    sim = make_sim(label="pump")
    response = preview(
        client, action="label", new_label="{label}", scope="selected", iccid=[sim.iccid]
    )
    assert "Nothing to do" in response.text


def test_a_status_preview_shows_old_and_new_status(client, login, make_sim):
    login("operator")
    sim = make_sim()
    response = preview(client, action="disable", scope="selected", iccid=[sim.iccid])
    assert '<td class="bulk-old">Enabled</td>' in response.text
    assert '<td class="bulk-new">Disabled</td>' in response.text


def test_labels_longer_than_1nce_takes_offer_no_confirm(client, login, make_sim):
    login("operator")
    sim = make_sim(label="x" * 200)
    response = preview(
        client, action="label", new_label="{label} " + "y" * 60, scope="selected",
        iccid=[sim.iccid],
    )  # fmt: skip
    assert "1 new label would be longer than 255 characters" in response.text
    assert 'action="/bulk"' not in response.text


def test_unknown_pattern_fields_are_explained(client, login, make_sim):
    login("operator")
    sim = make_sim()
    for pattern in ("{name}", "{label", "{label:>9}", "{}"):
        response = preview(
            client, action="label", new_label=pattern, scope="selected", iccid=[sim.iccid]
        )
        assert response.status_code == 422, pattern
        assert "may name {label} (the current label) and {iccid}" in response.text


def test_preview_with_nothing_selected_explains_and_leads_back_to_the_view(client, login, make_sim):
    login("operator")
    make_sim()
    response = preview(client, action="enable", scope="selected", **{"filter.q": "pump"})
    assert response.status_code == 422
    assert "Select at least one SIM, or choose all SIMs matching the view." in response.text
    assert 'href="/sims?q=pump">Back to the SIMs</a>' in response.text


def test_the_inventory_shows_the_selection_count_for_operators_only(client, login, make_sim):
    make_sim()
    login("operator")
    page = client.get("/sims").text
    assert "data-bulk-count" in page
    assert 'form="bulk-form" class="button primary">Preview</button>' in page
    assert 'placeholder="{label} (site A)"' in page
    client.post("/logout")
    login("viewer")
    assert "data-bulk-count" not in client.get("/sims").text
