/* Progressive enhancement for the authority portal. Everything works without this file.
 * - Request form: hide the certificate sections the chosen instrument does not use
 *   (hidden sections are also disabled, so their fields are not sent).
 * - Targets: add a row in place instead of the server round trip.
 * - Receipt: a "Print" button.
 * - After a failed submission, focus moves to the error summary.
 * Same-origin file, no inline code: the CSP allows no inline script. */
(function () {
  "use strict";

  function applyInstrument(select) {
    var value = select.value;
    document.querySelectorAll("[data-instruments]").forEach(function (section) {
      var uses = section.getAttribute("data-instruments").split(" ");
      var show = !value || uses.indexOf(value) !== -1;
      section.hidden = !show;
      if (section.tagName === "FIELDSET") { section.disabled = !show; }
    });
  }

  function addTargetRow(button) {
    var template = document.getElementById("target-template");
    var total = document.getElementById("id_targets-TOTAL_FORMS");
    var list = document.getElementById("target-rows");
    if (!template || !total || !list) { return false; }
    var index = parseInt(total.value, 10);
    var html = template.innerHTML.replace(/__prefix__/g, String(index))
      .replace(/__number__/g, String(index + 1));
    list.insertAdjacentHTML("beforeend", html);
    total.value = String(index + 1);
    var first = list.lastElementChild && list.lastElementChild.querySelector("select, input");
    if (first) { first.focus(); }
    return true;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.getElementById("error-summary");
    if (summary) { summary.focus(); }
    var instrument = document.getElementById("id_instrument");
    if (instrument && instrument.form && instrument.form.hasAttribute("data-request-form")) {
      applyInstrument(instrument);
      instrument.addEventListener("change", function () { applyInstrument(instrument); });
    }
    document.querySelectorAll("[data-add-target]").forEach(function (button) {
      button.addEventListener("click", function (event) {
        if (addTargetRow(button)) { event.preventDefault(); }
      });
    });
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { window.print(); });
    });
  });
})();
