"""The inventory page: fragment or page, roles, escaping, sorting links, errors."""

import re

import pytest


def test_full_load_is_the_page_and_htmx_gets_the_fragment(client, login, varied_fleet):
    login("viewer")
    page = client.get("/sims?status=Enabled")
    assert page.status_code == 200
    assert "HX-Request" in page.headers["Vary"]
    assert b"<h1>SIMs</h1>" in page.data and b'id="inventory-filters"' in page.data
    assert b"js/inventory.js" in page.data and b"css/inventory.css" in page.data
    fragment = client.get("/sims?status=Enabled", headers={"HX-Request": "true"})
    assert "HX-Request" in fragment.headers["Vary"]
    assert b'id="sim-results"' in fragment.data and b"<h1>" not in fragment.data
    assert b"9 SIMs" in fragment.data


def test_rows_link_to_the_detail_page_and_show_computed_columns(client, login, varied_fleet):
    login("viewer")
    body = client.get("/sims?q=8988228066000000001").text
    assert 'href="/sims/8988228066000000001"' in body
    assert "90.0 MB" in body and "18 %" in body and "low" in body
    assert "0.50 MB" in body  # 7-day average
    assert "2027-01-02" in body  # runs out
    assert re.search(r"usage <time [^>]+>(just now|\d+ min ago)</time>", body)


def test_a_sim_1nce_blocks_reads_blocked_and_has_its_filter(client, login, make_sim):
    make_sim(iccid="8988228066000000077", connectivity_status="BLOCKED", online=False)
    make_sim(iccid="8988228066000000078", connectivity_status="ATTACHED", online=False)
    login("viewer")
    body = client.get("/sims?connectivity=blocked").text
    assert '<option value="blocked" selected>Blocked</option>' in body
    assert "8988228066000000077" in body and "8988228066000000078" not in body
    assert '<span class="badge badge-failed">blocked</span>' in body


def test_values_from_1nce_and_users_are_escaped(client, login, make_sim):
    make_sim(label='<img src=x onerror="alert(1)">', operator="<b>Op</b>")
    login("operator")
    body = client.get("/sims").text
    assert "<img src=x" not in body and "&lt;img src=x onerror=" in body
    assert "<b>Op</b>" not in body
    assert "<script>" not in body.split("</head>")[1]


@pytest.mark.parametrize("role", ["viewer", "operator", "admin"])
def test_only_operators_and_admins_get_row_checkboxes(client, login, varied_fleet, role):
    login(role)
    body = client.get("/sims").text
    can_act = role != "viewer"
    assert ('class="select-page"' in body) is can_act
    assert ('name="iccid" value="8988228066000000001" form="bulk-form"' in body) is can_act


def test_signed_out_users_are_sent_to_sign_in(client):
    response = client.get("/sims")
    assert response.status_code in (302, 303) and "/login" in response.headers["Location"]


def test_sort_links_toggle_the_direction_and_keep_the_filters(client, login, varied_fleet):
    login("viewer")
    body = client.get("/sims?country=Spain&sort=label").text
    assert 'aria-sort="ascending"' in body
    assert "/sims?country=Spain&amp;sort=label&amp;dir=desc" in body
    assert "/sims?country=Spain&amp;sort=last_seen&amp;dir=asc" in body
    assert 'name="sort" value="label" form="inventory-filters"' in body


def test_next_page_link_carries_the_view_and_a_cursor(client, login, make_sim):
    for n in range(55):
        make_sim(label=f"unit {n:02d}")
    login("viewer")
    first = client.get("/sims?sort=label&dir=desc").text
    href = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    assert "sort=label" in href and "dir=desc" in href and "cursor=" in href
    second = client.get(href).text
    assert "unit 04" in second and "unit 05" not in second and "first page" in second


def test_bad_arguments_show_a_message_not_a_crash(client, login, varied_fleet):
    login("viewer")
    response = client.get("/sims?quota_state=full")
    assert response.status_code == 400
    assert "quota_state" in response.text and "Show all SIMs" in response.text
    assert client.get("/sims?cursor=!!").status_code == 400


def test_empty_results_say_so(client, login, varied_fleet):
    login("viewer")
    assert "No SIM matches this view" in client.get("/sims?q=nothing-like-this").text


def test_filter_choices_come_from_the_fleet(client, login, varied_fleet):
    login("viewer")
    body = client.get("/sims?country=Spain").text
    assert '<option value="Spain" selected>Spain</option>' in body
    assert '<option value="Orange" >Orange</option>' in body or 'value="Orange"' in body
