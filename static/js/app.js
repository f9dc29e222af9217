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

// A filter select marked data-autosubmit submits its form on change (e.g. a township narrows the villages);
// data-resets names a field that no longer fits and is cleared first.
document.addEventListener("change", function (event) {
  const select = event.target;
  if (select.matches("select[data-autosubmit]") && select.form) {
    const dependent = select.form.elements[select.getAttribute("data-resets") || ""];
    if (dependent) {
      dependent.value = "";
    }
    select.form.requestSubmit();
  }
});

// A form marked data-submit-once disables its buttons once sent, so a double click sends one request.
document.addEventListener("submit", function (event) {
  if (!event.defaultPrevented && event.target.hasAttribute("data-submit-once")) {
    event.target.querySelectorAll("button[type=submit]").forEach(function (button) { button.disabled = true; });
  }
});

// A select marked data-filter-by="township" offers only the options whose data-township matches that select.
function filterDependentOptions(root) {
  root.querySelectorAll("select[data-filter-by]").forEach(function (select) {
    const source = select.form && select.form.elements[select.getAttribute("data-filter-by")];
    if (!source) { return; }
    Array.from(select.options).forEach(function (option) {
      const parent = option.getAttribute("data-township");
      const hide = parent !== null && source.value !== "" && parent !== source.value;
      option.hidden = hide;
      option.disabled = hide;
      if (hide && option.selected) { select.value = ""; }
    });
  });
}

// A field marked data-show-when="category:04,08" is shown only while that field has one of those values.
function toggleConditionalFields(root) {
  root.querySelectorAll("[data-show-when]").forEach(function (field) {
    const rule = field.getAttribute("data-show-when").split(":");
    const source = field.form && field.form.elements[rule[0]];
    if (!source) { return; }
    const wrapper = field.closest(".mb-3") || field;
    const hide = rule[1].split(",").indexOf(source.value) === -1;
    wrapper.classList.toggle("d-none", hide);
    // A hidden field sends nothing, so the server never refuses a value the user cannot see.
    if (hide) { field.value = ""; }
  });
}
document.addEventListener("DOMContentLoaded", function () {
  filterDependentOptions(document);
  toggleConditionalFields(document);
});
document.addEventListener("change", function (event) {
  if (event.target.form) {
    filterDependentOptions(event.target.form);
    toggleConditionalFields(event.target.form);
  }
  // A checkbox marked data-check-all="name" ticks every checkbox of that name in its form.
  const group = event.target.getAttribute("data-check-all");
  if (group && event.target.form) {
    event.target.form.querySelectorAll("input[type=checkbox][name='" + group + "']").forEach(function (box) {
      box.checked = event.target.checked;
    });
  }
});

// Links that ask first: <a data-confirm="……">.
document.addEventListener("click", function (event) {
  const link = event.target.closest("a[data-confirm]");
  if (link && !window.confirm(link.getAttribute("data-confirm"))) {
    event.preventDefault();
  }
});
