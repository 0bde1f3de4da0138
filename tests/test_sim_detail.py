"""The SIM detail page."""

from tests.helpers import UNKNOWN_ICCID


def test_detail_shows_the_sim_and_escapes_its_label(client, login, make_sim):
    make_sim(iccid="8988228066000000001", label="<script>x</script>")
    login("viewer")
    response = client.get("/sims/8988228066000000001")
    assert response.status_code == 200
    assert b"&lt;script&gt;x&lt;/script&gt;" in response.data


def test_unknown_sim_is_404(client, login):
    login("viewer")
    assert client.get(f"/sims/{UNKNOWN_ICCID}").status_code == 404
    assert client.get("/sims/not-an-iccid").status_code == 404
