// Safeguards (issue 17), progressive: the server checks the same things, this only helps.
// No inline scripts (CSP).
(function () {
  "use strict";

  function fold(value) {
    return value.trim().split(/\s+/).join(" ");
  }

  // Type to confirm: a form with an input[data-must-match] keeps its submit buttons disabled
  // until the typed value is that text (white space folded, as the server compares it).
  document.querySelectorAll("input[data-must-match]").forEach(function (input) {
    var form = input.form;
    if (!form) return;
    var buttons = form.querySelectorAll("button[type=submit], button:not([type])");
    var update = function () {
      var matches = fold(input.value) === input.getAttribute("data-must-match");
      buttons.forEach(function (button) { button.disabled = !matches; });
    };
    input.addEventListener("input", update);
    update();
  });

  // data-show-when="name=value": shown only while the form's field `name` (radio buttons or a
  // select) has `value`, e.g. the "I understand…" of switching an endpoint to Personal.
  document.querySelectorAll("[data-show-when]").forEach(function (element) {
    var form = element.closest("form");
    var spec = element.getAttribute("data-show-when").split("=");
    if (!form || spec.length !== 2) return;
    var current = function () {
      var checked = form.querySelector("input[name='" + spec[0] + "']:checked");
      if (checked) return checked.value;
      var select = form.querySelector("select[name='" + spec[0] + "']");
      return select ? select.value : "";
    };
    var update = function () { element.hidden = current() !== spec[1]; };
    form.addEventListener("change", update);
    update();
  });
})();
