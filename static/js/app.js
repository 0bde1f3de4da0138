// Simfleet's only first-party script: wires htmx to CSRF and to our error handling.
// No inline scripts anywhere (the CSP forbids them); behaviour hangs off data attributes.
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  document.addEventListener("htmx:configRequest", function (event) {
    var method = (event.detail.verb || "get").toUpperCase();
    if (method !== "GET") {
      event.detail.headers["X-CSRFToken"] = csrfToken();
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    if (!window.htmx) return;
    // Swap validation errors (422) into the page like successes; other errors raise events.
    window.htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "422", swap: true },
      { code: "[45]..", swap: false, error: true },
    ];
  });

  document.addEventListener("htmx:responseError", function (event) {
    var flashes = document.getElementById("flashes");
    if (!flashes) return;
    var p = document.createElement("p");
    p.className = "flash flash-error";
    p.setAttribute("role", "alert");
    var status = event.detail.xhr ? event.detail.xhr.status : "";
    p.textContent = status === 403
      ? "You do not have permission to do that."
      : "Something went wrong (" + status + "). Please try again.";
    flashes.replaceChildren(p);
  });
})();
