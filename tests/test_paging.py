"""Keyset pages: cursors API clients hold keep decoding, forged ones are refused."""

import pytest

from webapp.errors import QueryError
from webapp.paging import Page, decode_cursor, encode_cursor

# A cursor of /api/v1/sims as clients hold it: its format outlives any release.
ISSUED = "eyJpY2NpZCI6Ijg5ODgyMjgwNjYwMDAwMDAwMDEifQ=="


def test_an_issued_cursor_decodes_to_its_position_and_back():
    assert decode_cursor(ISSUED, "iccid") == {"iccid": "8988228066000000001"}
    assert encode_cursor({"iccid": "8988228066000000001"}) == ISSUED


@pytest.mark.parametrize(
    "forged",
    ["!!", "WyJpY2NpZCJd", "eyJpY2NpZCI6Ijg5XHUwMDAwIn0=", encode_cursor({"iccid": 7})],
    ids=["not-base64", "a-list", "nul-in-key", "number-key"],
)
def test_a_forged_cursor_is_a_query_error(forged):
    with pytest.raises(QueryError) as raised:
        decode_cursor(forged, "iccid")
    assert raised.value.field == "cursor"


def test_the_extra_row_only_says_another_page_follows():
    assert Page.from_rows([1, 2, 3], 2, str) == Page([1, 2], "2")
    assert Page.from_rows([1, 2], 2, str) == Page([1, 2], None)
