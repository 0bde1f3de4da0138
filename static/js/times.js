// Times in the viewer's zone. The server writes every <time data-time> in the zone the user
// chose on their account page (named in <meta name="time-zone">), else in UTC; this rewrites
// them in that zone, or else the browser's own. The UTC moment stays in `datetime` and on
// hover (`title`); without JavaScript the server's text stays. Styles as in macros.html.
(function () {
  "use strict";

  function zone() {
    var meta = document.querySelector('meta[name="time-zone"]');
    return meta && meta.content ? meta.content : undefined; // undefined: the browser's zone
  }

  function parts(date, timeZone) {
    var format = new Intl.DateTimeFormat("en-GB", {
      timeZone: timeZone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit",
    });
    var named = {};
    format.formatToParts(date).forEach(function (part) { named[part.type] = part.value; });
    named.date = named.year + "-" + named.month + "-" + named.day;
    named.time = named.hour + ":" + named.minute;
    return named;
  }

  function text(style, date, timeZone) {
    var local = parts(date, timeZone);
    if (style === "date") return local.date;
    if (style === "seconds") return local.date + " " + local.time + ":" + local.second;
    if (style === "clock" && parts(new Date(), timeZone).date === local.date) return local.time;
    return local.date + " " + local.time;
  }

  function localise(root) {
    var timeZone = zone();
    root.querySelectorAll("time[data-time]").forEach(function (element) {
      var style = element.dataset.time;
      var date = new Date(element.getAttribute("datetime"));
      if (style === "ago" || isNaN(date.getTime())) return; // "5 min ago" reads the same anywhere
      try {
        element.textContent = text(style, date, timeZone);
      } catch (error) {
        element.textContent = text(style, date, undefined); // a zone this browser lacks
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () { localise(document); });
  // htmx:load fires for every element htmx swaps in (out-of-band ones too).
  document.addEventListener("htmx:load", function (event) {
    if (event.detail.elt.querySelectorAll) localise(event.detail.elt);
    if (event.detail.elt.matches && event.detail.elt.matches("time[data-time]")) {
      localise(event.detail.elt.parentNode || document);
    }
  });
})();
