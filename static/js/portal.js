// Small progressive enhancements; the portal works without them. No inline scripts (CSP).
// Partial-page updates are htmx attributes in the templates (static/vendor/htmx).
(function () {
  "use strict";
  // The Actions and user menus' keyboard: static/js/menus.js. Copy buttons: static/js/copy.js.
  // Buttons with data-confirm ask before submitting (a server-side confirmation page exists too).
  document.addEventListener("submit", function (event) {
    var message = event.submitter && event.submitter.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  });
})();
