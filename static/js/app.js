// Behaviour that templates ask for with data attributes, so pages need no inline script.
document.addEventListener("submit", function (event) {
  const message = event.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});

// Progress bars take their width from data-percent (inline styles are blocked by the CSP).
function applyPercent(root) {
  root.querySelectorAll("[data-percent]").forEach(function (bar) {
    bar.style.width = bar.getAttribute("data-percent") + "%";
  });
}
document.addEventListener("DOMContentLoaded", function () { applyPercent(document); });
document.addEventListener("htmx:afterSwap", function (event) { applyPercent(event.target); });
