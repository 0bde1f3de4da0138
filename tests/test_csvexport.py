"""Streamed, spreadsheet-safe CSV."""

import csv
import io

import pytest
from flask import Flask

from webapp.csvexport import safe_cell, stream_csv


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+2", "'+1+2"),
        ("-1+2", "'-1+2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("-3.5", "-3.5"),
        ("pump 7", "pump 7"),
        (None, ""),
        (12, "12"),
    ],
)
def test_cells_that_would_run_as_formulas_are_neutralised(value, cell):
    assert safe_cell(value) == cell


def test_stream_csv_yields_every_row_in_chunks():
    app = Flask(__name__)
    rows = ([n, f"=label {n}"] for n in range(1201))
    with app.test_request_context():
        response = stream_csv("sims.csv", ["n", "label"], rows)
        chunks = list(response.response)
    assert response.headers["Content-Disposition"] == 'attachment; filename="sims.csv"'
    assert len(chunks) == 3
    parsed = list(csv.reader(io.StringIO("".join(chunks))))
    assert parsed[0] == ["n", "label"]
    assert len(parsed) == 1202
    assert parsed[-1] == ["1200", "'=label 1200"]
