"""The helpers themselves, on a page made for them: a chart with data and one without."""

import json

from tests.browser.helpers import chart_has_data

# Served under the app's origin by the browser itself; uPlot is the app's own copy.
CHART_PAGE = """<!doctype html>
<html><head>
<link rel="stylesheet" href="/static/vendor/uPlot.min.css">
<script src="/static/vendor/uPlot.iife.min.js"></script>
</head><body>
<div id="with-data" data-src="/helpers-test/with-data.json"></div>
<div id="without-data" data-src="/helpers-test/without-data.json"></div>
<script>
for (const container of document.querySelectorAll("[data-src]")) {
  fetch(container.dataset.src).then((r) => r.json()).then((answer) => {
    const options = { width: 400, height: 200, series: [{}, { stroke: "blue" }] };
    new uPlot(options, answer.data, container);
  });
}
</script>
</body></html>"""
DAYS = [1_700_000_000 + day * 86_400 for day in range(5)]


def test_chart_has_data_reads_the_charts_json_and_its_canvas(new_page, stack):
    page = new_page()
    answers = {
        "chart": ("text/html", CHART_PAGE),
        "with-data.json": ("application/json", json.dumps({"data": [DAYS, [1, 4, 2, 8, 5]]})),
        "without-data.json": ("application/json", json.dumps({"data": [DAYS, [None] * 5]})),
    }
    page.route(
        "**/helpers-test/*",
        lambda route: route.fulfill(
            content_type=answers[route.request.url.rsplit("/", 1)[1]][0],
            body=answers[route.request.url.rsplit("/", 1)[1]][1],
        ),
    )
    page.goto("/helpers-test/chart")

    drawn = chart_has_data(page, "#with-data")
    assert drawn, drawn
    assert drawn.points == 5

    empty = chart_has_data(page, "#without-data")
    assert not empty
    assert empty.points == 0
