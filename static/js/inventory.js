// The SIM inventory page: clean URLs for the filter form, "select all on this page", the
// bulk selection count, and the filters behind a button on a phone.
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

  // The bulk dock: how many SIMs the bar's form holds, always in view; a Preview with none
  // selected explains in place instead of leaving the page.
  function bulkScopeAll(form) {
    var all = form.querySelector('input[name="scope"][value="all"]');
    return all && all.checked ? all.parentNode.textContent.trim().replace(/\s+/g, " ") : "";
  }

  function bulkSelected() {
    return document.querySelectorAll('input[name="iccid"][form="bulk-form"]:checked').length;
  }

  function showBulkMessage(text) {
    document.querySelectorAll("[data-bulk-message]").forEach(function (message) {
      message.textContent = text;
      message.hidden = !text;
    });
  }

  function updateBulkCount() {
    var form = document.getElementById("bulk-form");
    if (!form) return;
    var all = bulkScopeAll(form);
    var selected = bulkSelected();
    var text = all || (selected === 0 ? "No SIMs selected"
      : selected.toLocaleString("en") + (selected === 1 ? " SIM selected" : " SIMs selected"));
    document.querySelectorAll("[data-bulk-count]").forEach(function (count) {
      count.textContent = text;
    });
    if (all || selected) showBulkMessage("");
  }

  document.addEventListener("change", function (event) {
    var name = event.target.name;
    if (name === "iccid" || name === "scope") updateBulkCount();
  });
  document.addEventListener("htmx:afterSettle", updateBulkCount);
  document.addEventListener("DOMContentLoaded", updateBulkCount);

  // The filters' button (shown on a phone only, by CSS): opens and closes all but the search.
  document.addEventListener("DOMContentLoaded", function () {
    var toggle = document.querySelector(".inv-filter-toggle");
    var filters = document.getElementById("inventory-filters");
    if (!toggle || !filters) return;
    filters.classList.add("inv-filters-collapsible");
    toggle.hidden = false;
    toggle.addEventListener("click", function () {
      var open = filters.classList.toggle("is-open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.id !== "bulk-form" || bulkScopeAll(form) || bulkSelected() > 0) return;
    event.preventDefault();
    showBulkMessage(
      "Tick the SIMs to change in the table, or choose all SIMs matching this view."
    );
  });
})();
