// Copy to the clipboard: <button class="copy-button" data-copy="value"> (the include
// templates/includes/copy_button.html, template tags `copyable` and `copy_button`). The button
// says "Copied" for a moment and a polite live region announces it to screen readers. No inline
// script (CSP); buttons added later (htmx) work too, as the click is handled on the document.
(function () {
  "use strict";
  var RESET_AFTER_MS = 2000;
  var status = document.createElement("div");
  status.id = "copy-status";
  status.className = "visually-hidden";
  status.setAttribute("role", "status");
  status.setAttribute("aria-live", "polite");
  document.body.appendChild(status);
  // The buttons are hidden until this script runs: without it they could not copy.
  document.documentElement.classList.add("can-copy");

  function announce(text) {
    status.textContent = "";
    // A fresh text node after a tick, so that a second "Copied" is announced again.
    window.setTimeout(function () { status.textContent = text; }, 30);
  }

  function fallbackCopy(text) {
    // Pages served over plain http (not localhost) have no navigator.clipboard.
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "visually-hidden";
    document.body.appendChild(area);
    area.select();
    var done = false;
    try { done = document.execCommand("copy"); } catch (e) { done = false; }
    document.body.removeChild(area);
    return done ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }

  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () { return fallbackCopy(text); });
    }
    return fallbackCopy(text);
  }

  function show(button, text, cls) {
    window.clearTimeout(button._copyTimer);
    button.textContent = text;
    button.classList.remove("copied", "copy-failed");
    button.classList.add(cls);
    button._copyTimer = window.setTimeout(function () {
      button.textContent = "Copy";
      button.classList.remove("copied", "copy-failed");
    }, RESET_AFTER_MS);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button.copy-button");
    if (!button) return;
    event.preventDefault();
    var text = button.getAttribute("data-copy") || "";
    copy(text).then(function () {
      show(button, "Copied", "copied");
      announce("Copied");
    }, function () {
      show(button, "Not copied", "copy-failed");
      announce("Could not copy: select the text and press Ctrl+C");
    });
  });
})();
