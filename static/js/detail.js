// The SIM detail page: draws the usage charts with uPlot from the app's JSON.
// No inline scripts (CSP): charts hang off [data-usage-chart] and redraw after htmx swaps.
// The series' order, labels and colours come from series.js, as on the dashboard.
(function () {
  "use strict";

  var HEIGHT = 240;

  function daySeconds(days) {
    return days.map(function (d) { return Date.parse(d + "T00:00:00Z") / 1000; });
  }

  function sum(a, b) {
    // A day with no data is null in both: a gap, never a zero bar.
    return a.map(function (v, i) { return v == null ? null : v + b[i]; });
  }

  function formatter(raw, digits) {
    return function (u, value, si, idx) {
      if (idx == null) return "–";
      if (raw[idx] == null) return "no data";
      return raw[idx].toLocaleString(undefined, { maximumFractionDigits: digits });
    };
  }

  // Stacked bars of two parts in series.js's order: the first is drawn as the total and the
  // second over it from zero, so the first sits on top; the legend shows each part's own
  // value on hover, not the running sum.
  function stacked(el, days, usage, parts, digits) {
    var top = usage[parts[0].key];
    var bottom = usage[parts[1].key];
    var bars = uPlot.paths.bars({ size: [0.7, 40] });
    var opts = {
      width: Math.max(el.clientWidth, 200),
      height: HEIGHT,
      // Half a day of room either side, so the first and last bars are not cut in half.
      scales: { x: { time: true, range: function (u, min, max) { return [min - 43200, max + 43200]; } } },
      axes: [{}, { size: 56 }],
      cursor: { points: { show: false } },
      series: [
        { value: "{YYYY}-{MM}-{DD}" },
        { label: parts[0].label, fill: parts[0].color, stroke: parts[0].color, paths: bars,
          points: { show: false }, value: formatter(top, digits) },
        { label: parts[1].label, fill: parts[1].color, stroke: parts[1].color, paths: bars,
          points: { show: false }, value: formatter(bottom, digits) },
      ],
    };
    el.replaceChildren();
    var chart = new uPlot(opts, [daySeconds(days), sum(top, bottom), bottom], el);
    if (window.ResizeObserver) {
      new ResizeObserver(function () {
        chart.setSize({ width: Math.max(el.clientWidth, 200), height: HEIGHT });
      }).observe(el);
    }
  }

  function draw(container) {
    if (!window.uPlot || container.dataset.drawn) return;
    container.dataset.drawn = "1";
    fetch(container.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("usage " + response.status);
        return response.json();
      })
      .then(function (usage) {
        stacked(container.querySelector(".chart-data"), usage.days, usage,
          window.SimfleetSeries.data, 3);
        stacked(container.querySelector(".chart-sms"), usage.days, usage,
          window.SimfleetSeries.sms, 0);
      })
      .catch(function () {
        container.querySelector(".chart-data").textContent =
          "The chart could not be loaded; the table view has the same numbers.";
      });
  }

  // htmx:load fires for the initial page and for every swapped-in element.
  document.addEventListener("htmx:load", function (event) {
    var root = event.detail.elt;
    if (root.matches && root.matches("[data-usage-chart]")) draw(root);
    if (root.querySelectorAll) root.querySelectorAll("[data-usage-chart]").forEach(draw);
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-usage-chart]").forEach(draw);
  });
})();
