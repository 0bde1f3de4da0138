// The fleet dashboard's usage chart: uPlot over the app's JSON (no inline scripts: CSP).
// Data received and sent are stacked areas on the MB axis, SMS a line on its own axis; their
// order, labels and colours come from series.js, as on the SIM page.
(function () {
  "use strict";

  var RX = window.SimfleetSeries.data[0];
  var TX = window.SimfleetSeries.data[1];
  var SMS = window.SimfleetSeries.smsTotal;

  function number(digits) {
    // idx is null while the cursor is off the chart: nothing is pointed at, so a dash.
    return function (u, value, si, idx) {
      if (idx == null) return "–";
      return value == null ? "no data" : value.toLocaleString(undefined, { maximumFractionDigits: digits });
    };
  }

  // Axis ticks stay short: 750k, 1.2M.
  function compact(u, ticks) {
    return ticks.map(function (t) {
      if (Math.abs(t) >= 1e6) return +(t / 1e6).toFixed(1) + "M";
      if (Math.abs(t) >= 1e3) return +(t / 1e3).toFixed(1) + "k";
      return t.toLocaleString();
    });
  }

  function options(width, data) {
    var narrow = width < 500; // phones: no axis titles, the legend names the series
    return {
      width: width,
      height: width < 500 ? 220 : 300,
      cursor: { points: { show: false } },
      legend: { live: true },
      scales: { x: { time: true }, mb: { auto: true, range: function (u, min, max) { return [0, max || 1]; } },
                sms: { auto: true, range: function (u, min, max) { return [0, max || 1]; } } },
      axes: [
        { space: 60 },
        { scale: "mb", label: narrow ? null : "MB", size: narrow ? 50 : 55, values: compact },
        { scale: "sms", label: narrow ? null : "SMS", side: 1, size: narrow ? 36 : 55, values: compact,
          grid: { show: false } },
      ],
      series: [
        { value: "{YYYY}-{MM}-{DD}" },
        // Drawn as rx + tx (the stack's top); the legend shows rx alone.
        { label: RX.label, scale: "mb", stroke: RX.color, fill: RX.color + "55", width: 1, points: { show: false },
          value: function (u, v, s, i) { return i == null ? "–" : number(1)(u, data.data_rx_mb[i]); } },
        { label: TX.label, scale: "mb", stroke: TX.color, fill: TX.color + "aa", width: 1, points: { show: false },
          value: number(1) },
        { label: SMS.label, scale: "sms", stroke: SMS.color, width: 2, dash: [4, 3], points: { show: false },
          value: number(0) },
      ],
    };
  }

  function columns(data) {
    var x = data.days.map(function (day) { return Date.parse(day + "T00:00:00Z") / 1000; });
    // A day with no data is null: uPlot leaves a gap there instead of drawing a zero.
    var stacked = data.data_rx_mb.map(function (rx, i) { return rx == null ? null : rx + data.data_tx_mb[i]; });
    return [x, stacked, data.data_tx_mb, data.sms];
  }

  function draw(container) {
    if (!window.uPlot || container.dataset.drawn) return;
    container.dataset.drawn = "1";
    fetch(container.dataset.chartSrc, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.json();
      })
      .then(function (data) {
        var plot = new window.uPlot(options(container.clientWidth, data), columns(data), container);
        new ResizeObserver(function () {
          plot.setSize({ width: container.clientWidth, height: container.clientWidth < 500 ? 220 : 300 });
        }).observe(container);
      })
      .catch(function () {
        container.textContent = "The chart could not be loaded; the figures are in the table below.";
      });
  }

  function drawAll(root) {
    root.querySelectorAll("[data-chart-src]").forEach(draw);
  }

  document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  // A range change swaps the whole section; its new chart is the one not drawn yet.
  document.addEventListener("htmx:afterSettle", function () { drawAll(document); });
})();
