// Small progressive enhancements; the portal works without them. No inline scripts (CSP).
// Partial-page updates are htmx attributes in the templates (static/vendor/htmx).
(function () {
  "use strict";
  // Close an open <details> menu with Escape or a click outside it.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    document.querySelectorAll("details[open].actions-menu, details[open].usermenu").forEach(function (d) {
      d.removeAttribute("open");
      var summary = d.querySelector("summary");
      if (summary) summary.focus();
    });
  });
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details[open].actions-menu, details[open].usermenu").forEach(function (d) {
      if (!d.contains(event.target)) d.removeAttribute("open");
    });
  });
  // Buttons with data-confirm ask before submitting (a server-side confirmation page exists too).
  document.addEventListener("submit", function (event) {
    var message = event.submitter && event.submitter.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  });
})();
