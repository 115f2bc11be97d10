// Our few lines of behaviour on top of htmx. Everything here also works
// without JavaScript by plain links and form posts.
(function () {
  "use strict";

  // After htmx swaps a wizard step in, move focus to its error summary or heading,
  // so keyboard and screen reader users start at the top of the new step.
  document.addEventListener("htmx:afterSettle", function (event) {
    var panel = document.getElementById("step-panel");
    if (!panel || !panel.contains(event.detail.elt) && event.detail.elt !== panel) return;
    var target = panel.querySelector("[data-error-summary]") || panel.querySelector("h1");
    if (target) target.focus();
  });

  // "Show clear text": switch the code field between masked and plain in place.
  function toggleClear(link) {
    var input = document.getElementById(link.getAttribute("data-toggle-clear"));
    if (!input) return;
    var show = input.type === "password";
    input.type = show ? "text" : "password";
    link.setAttribute("aria-checked", show ? "true" : "false");
    link.textContent = show ? "Hide clear text" : "Show clear text";
  }

  function enhance(root) {
    root.querySelectorAll("[data-toggle-clear]").forEach(function (link) {
      if (link.dataset.enhanced) return;
      link.dataset.enhanced = "1";
      var input = document.getElementById(link.getAttribute("data-toggle-clear"));
      link.setAttribute("role", "switch");
      link.setAttribute("aria-checked", input && input.type === "text" ? "true" : "false");
      link.textContent = "Show clear text";
      if (input && input.type === "text") link.textContent = "Hide clear text";
      link.addEventListener("click", function (e) { e.preventDefault(); toggleClear(link); });
      link.addEventListener("keydown", function (e) {
        if (e.key === " ") { e.preventDefault(); toggleClear(link); }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  document.addEventListener("htmx:load", function (event) { enhance(event.detail.elt); });
})();
