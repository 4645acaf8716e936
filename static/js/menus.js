// Actions menus and the user menu are disclosures, not ARIA menus: a <details class="actions-menu">
// whose <summary> shows and hides a short list of ordinary links and buttons (Tab reaches them,
// and they work without this script). The keyboard follows the WAI-ARIA disclosure navigation
// pattern: Enter or Space toggles; Down and Up move through the items (on the closed summary they
// open it at the first or the last), Home and End go to the first and last; Escape closes it and
// puts focus back on the summary; focus or a click leaving it closes it. One is open at a time.
// No inline script (CSP).
(function () {
  "use strict";
  var MENUS = "details.actions-menu, details.usermenu";

  function items(menu) {
    return Array.prototype.slice.call(
      menu.querySelectorAll(".menu a[href], .menu button:not([disabled])"));
  }
  function summaryOf(menu) { return menu.querySelector("summary"); }
  function openMenus() { return document.querySelectorAll(MENUS.replace(/details/g, "details[open]")); }

  function move(menu, target, key) {
    var list = items(menu);
    if (!list.length) return;
    var at = list.indexOf(target);
    var next;
    if (key === "Home") next = 0;
    else if (key === "End") next = list.length - 1;
    else if (key === "ArrowDown") next = at < 0 ? 0 : (at + 1) % list.length;
    else next = at < 0 ? list.length - 1 : (at - 1 + list.length) % list.length;
    list[next].focus();
  }

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      openMenus().forEach(function (menu) {
        var hadFocus = menu.contains(document.activeElement);
        menu.open = false;
        if (hadFocus) summaryOf(menu).focus();
      });
      return;
    }
    if (["ArrowDown", "ArrowUp", "Home", "End"].indexOf(event.key) < 0) return;
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    var menu = event.target.closest && event.target.closest(MENUS);
    if (!menu) return;
    if (!menu.open) {
      // Down on the closed summary opens it at the first item, Up at the last.
      if (event.target !== summaryOf(menu) || !/^Arrow/.test(event.key)) return;
      menu.open = true;
    }
    event.preventDefault();
    move(menu, event.target, event.key);
  });

  // Focus moving out (Tab past the last item, also off the end of the page) or a click elsewhere
  // closes it; a click on the menu's own padding (focus goes to the body) does not.
  var pressedIn = null;
  document.addEventListener("pointerdown", function (event) {
    pressedIn = event.target.closest ? event.target.closest(MENUS) : null;
  }, true);
  document.addEventListener("keydown", function () { pressedIn = null; }, true);
  document.addEventListener("focusout", function (event) {
    var menu = event.target.closest && event.target.closest(MENUS);
    if (!menu || !menu.open) return;
    if (event.relatedTarget) {
      if (!menu.contains(event.relatedTarget)) menu.open = false;
      return;
    }
    if (pressedIn === menu) return;
    window.setTimeout(function () {
      if (!menu.contains(document.activeElement)) menu.open = false;
    }, 0);
  });
  document.addEventListener("click", function (event) {
    openMenus().forEach(function (menu) {
      if (!menu.contains(event.target)) menu.open = false;
    });
  });
  // One open at a time ("toggle" does not bubble: listen while it goes down).
  document.addEventListener("toggle", function (event) {
    var opened = event.target;
    if (!opened.matches || !opened.matches(MENUS) || !opened.open) return;
    openMenus().forEach(function (menu) { if (menu !== opened) menu.open = false; });
  }, true);
})();
