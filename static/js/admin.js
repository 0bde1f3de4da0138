// Admin pages: copy a new API key to the clipboard; keep the audit log's URL short. Event
// delegation, so it also works on fragments that htmx swaps in; no inline scripts (CSP).
(function () {
  "use strict";

  function reveal(root) {
    root.querySelectorAll("[data-copy][hidden]").forEach(function (button) {
      button.hidden = false;
    });
  }

  function announce(text) {
    var status = document.getElementById("copy-status");
    if (status) status.textContent = text;
  }

  document.addEventListener("DOMContentLoaded", function () { reveal(document); });
  document.addEventListener("htmx:load", function (event) { reveal(event.detail.elt); });

  // Empty filters stay out of the request, and so out of the URL that htmx pushes.
  document.addEventListener("htmx:configRequest", function (event) {
    var form = event.detail.elt;
    if (!form.matches || !form.matches("form.filters")) return;
    var params = event.detail.parameters;
    Object.keys(Object.fromEntries(event.detail.formData || [])).forEach(function (name) {
      if (params[name] === "") delete params[name];
    });
  });

  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches("[data-select-on-focus]")) {
      event.target.select();
    }
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-copy]") : null;
    if (!button) return;
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) return;
    field.focus();
    field.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(
        function () { announce("Copied to the clipboard."); },
        function () { announce("Copy failed: the key is selected, press Ctrl+C (or ⌘C)."); }
      );
    } else {
      announce("The key is selected: press Ctrl+C (or ⌘C) to copy it.");
    }
  });
})();
