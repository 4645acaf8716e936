// Small progressive enhancements; the portal works without them. No inline scripts (CSP).
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

  function fetchFragment(url) {
    return fetch(url, { headers: { "X-Requested-With": "fetch" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.text();
      });
  }

  // data-load-url: fill the element with a fragment once the page is shown.
  document.querySelectorAll("[data-load-url]").forEach(function (el) {
    fetchFragment(el.getAttribute("data-load-url")).then(function (html) {
      el.innerHTML = html;
    }).catch(function () {
      el.innerHTML = "<p class=\"muted\">Could not load. Reload the page to try again.</p>";
    });
  });

  // data-poll-url: replace the element with a fresh copy every few seconds while the fresh copy
  // still asks to be polled (a running check or batch); then stop.
  function poll(el) {
    var url = el.getAttribute("data-poll-url");
    if (!url) return;
    var interval = parseInt(el.getAttribute("data-poll-interval") || "1500", 10);
    window.setTimeout(function () {
      fetchFragment(url).then(function (html) {
        var holder = document.createElement("div");
        holder.innerHTML = html.trim();
        var fresh = holder.firstElementChild;
        if (!fresh) return;
        el.replaceWith(fresh);
        if (fresh.getAttribute("data-reload-on-done") !== null && !fresh.getAttribute("data-poll-url")) {
          window.location.reload();
          return;
        }
        poll(fresh);
      }).catch(function () { poll(el); });
    }, interval);
  }
  document.querySelectorAll("[data-poll-url]").forEach(poll);

  // form[data-async-target]: submit in the background and swap the returned fragment into the
  // element with that id (then follow it if it asks to be polled). Falls back to a normal POST.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var targetId = form.getAttribute && form.getAttribute("data-async-target");
    if (!targetId || event.defaultPrevented || !window.fetch) return;
    var target = document.getElementById(targetId);
    if (!target) return;
    event.preventDefault();
    var button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { "X-Requested-With": "fetch" },
      credentials: "same-origin"
    }).then(function (response) {
      if (!response.ok) throw new Error(response.status);
      return response.text();
    }).then(function (html) {
      var holder = document.createElement("div");
      holder.innerHTML = html.trim();
      var fresh = holder.firstElementChild;
      target.replaceWith(fresh);
      if (button) button.disabled = false;
      if (fresh.getAttribute("data-poll-url")) poll(fresh);
    }).catch(function () {
      form.removeAttribute("data-async-target");
      form.submit();
    });
  });
})();
