// The SIM inventory page: clean URLs for the filter form and "select all on this page".
// Loaded only by templates/inventory/page.html; no inline scripts (CSP).
(function () {
  "use strict";

  // Leave empty filters out of the request, so the pushed URL names only what is set
  // (and matches the JSON API's parameters one for one).
  document.addEventListener("htmx:configRequest", function (event) {
    if (!event.detail.elt.closest("#inventory-filters")) return;
    var parameters = event.detail.parameters;
    Object.keys(parameters).forEach(function (name) {
      if (parameters[name] === "") delete parameters[name];
    });
  });

  function rowBoxes(table) {
    return table.querySelectorAll('tbody input[type="checkbox"][name="iccid"]');
  }

  // The header checkbox selects or clears every row of this page.
  document.addEventListener("change", function (event) {
    var target = event.target;
    var table = target.closest("table");
    if (!table) return;
    if (target.classList.contains("select-page")) {
      // Read once: each row's change event (for listeners such as the bulk bar) also
      // recomputes this header box while the loop runs.
      var selected = target.checked;
      rowBoxes(table).forEach(function (box) {
        if (box.checked !== selected) {
          box.checked = selected;
          box.dispatchEvent(new Event("change", { bubbles: true }));
        }
      });
      return;
    }
    if (target.name === "iccid") {
      var header = table.querySelector(".select-page");
      if (!header) return;
      var boxes = Array.prototype.slice.call(rowBoxes(table));
      var checked = boxes.filter(function (box) { return box.checked; }).length;
      header.checked = checked > 0 && checked === boxes.length;
      header.indeterminate = checked > 0 && checked < boxes.length;
    }
  });
})();
