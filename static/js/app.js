// Our few lines of behavior on top of htmx. Everything here also works
// without JavaScript by plain links and form posts.
(function () {
  "use strict";

  // After htmx swaps a wizard step in, move focus to its error summary or heading,
  // so keyboard and screen reader users start at the top of the new step.
  document.addEventListener("htmx:afterSettle", function (event) {
    var panel = document.getElementById("step-panel");
    if (panel && (panel === event.detail.elt || panel.contains(event.detail.elt))) {
      var heading = panel.querySelector("[data-error-summary]") || panel.querySelector("h1");
      if (heading) heading.focus();
      return;
    }
    // Elsewhere (a token row swapped in place): the error summary, or what asks for focus.
    var swapped = event.detail.elt;
    if (!swapped || !swapped.isConnected) {
      var id = event.detail.target && event.detail.target.id;
      swapped = id ? document.getElementById(id) : null;
    }
    if (!swapped) return;
    var target = swapped.querySelector("[data-error-summary]") || swapped.querySelector("[data-autofocus]");
    if (!target && swapped.hasAttribute("data-autofocus")) target = swapped;
    // A swap that took away what had focus (a deleted row) names where focus goes instead.
    if (!target && swapped.dataset.focus) target = document.getElementById(swapped.dataset.focus);
    if (target) target.focus();
  });

  // "Show clear text": switch masked fields to plain text in place. The link's
  // data-toggle-clear names one or more field ids, separated by spaces.
  function fields(link) {
    return link.getAttribute("data-toggle-clear").split(" ")
      .map(function (id) { return document.getElementById(id); })
      .filter(Boolean);
  }

  function label(link, shown) {
    link.setAttribute("aria-checked", shown ? "true" : "false");
    link.textContent = (shown ? "Hide " : "Show ") + (link.getAttribute("data-toggle-label") || "clear text");
  }

  function toggleClear(link) {
    var inputs = fields(link);
    var show = inputs.length > 0 && inputs[0].type === "password";
    inputs.forEach(function (input) { input.type = show ? "text" : "password"; });
    label(link, show);
  }

  function enhance(root) {
    root.querySelectorAll("[data-toggle-clear]").forEach(function (link) {
      if (link.dataset.enhanced) return;
      link.dataset.enhanced = "1";
      var inputs = fields(link);
      link.setAttribute("role", "switch");
      label(link, inputs.length > 0 && inputs[0].type === "text");
      link.addEventListener("click", function (e) { e.preventDefault(); toggleClear(link); });
      link.addEventListener("keydown", function (e) {
        if (e.key === " ") { e.preventDefault(); toggleClear(link); }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    enhance(document);
    // A full page answering a refused form (no htmx swap): start at its error summary, so a
    // keyboard user does not tab through the header first.
    var summary = document.querySelector("[data-error-summary]");
    if (summary) summary.focus();
  });
  document.addEventListener("htmx:load", function (event) { enhance(event.detail.elt); });
})();
