// Behaviour that templates ask for with data attributes, so pages need no inline script.
document.addEventListener("submit", function (event) {
  const button = event.submitter;
  const message = (button && button.getAttribute("data-confirm")) || event.target.getAttribute("data-confirm");
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

// A button marked data-print opens the browser's print dialog.
document.addEventListener("click", function (event) {
  if (event.target.closest("[data-print]")) {
    window.print();
  }
});

// Links that ask first: <a data-confirm="……">.
document.addEventListener("click", function (event) {
  const link = event.target.closest("a[data-confirm]");
  if (link && !window.confirm(link.getAttribute("data-confirm"))) {
    event.preventDefault();
  }
});

// Formsets: a button data-formset-add="gifts" appends a copy of <template id="gifts-template"> to #gifts-rows.
function addFormsetRow(prefix) {
  const total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
  const template = document.getElementById(prefix + "-template");
  const rows = document.getElementById(prefix + "-rows");
  if (!total || !template || !rows) { return null; }
  const index = parseInt(total.value, 10) || 0;
  const holder = document.createElement("div");
  holder.innerHTML = template.innerHTML.replace(/__prefix__/g, String(index));
  const row = holder.firstElementChild;
  rows.appendChild(row);
  total.value = index + 1;
  toggleConditionalFields(row);
  return row;
}

// A search hit marked data-pick="recipients" adds a row holding that person (data-pk, data-label, data-warning);
// the amount of the row above is copied, since a visit usually gives everyone the same.
document.addEventListener("click", function (event) {
  const add = event.target.closest("[data-formset-add]");
  if (add) {
    const row = addFormsetRow(add.getAttribute("data-formset-add"));
    const first = row && row.querySelector("input:not([type=hidden]), select, textarea");
    if (first) { first.focus(); }
    return;
  }
  // A new row's 移除 empties it (an empty row is not saved) and hides it.
  const remove = event.target.closest("[data-row-remove]");
  if (remove) {
    const row = remove.closest(".formset-row");
    row.querySelectorAll("input, select, textarea").forEach(function (field) { field.value = ""; });
    row.classList.add("d-none");
    return;
  }
  const pick = event.target.closest("[data-pick]");
  if (!pick) { return; }
  const prefix = pick.getAttribute("data-pick");
  const rows = document.getElementById(prefix + "-rows");
  const pk = pick.getAttribute("data-pk");
  const taken = rows && Array.from(rows.querySelectorAll("[data-fill=pk]")).find(function (input) {
    return input.value === pk;
  });
  if (taken) {
    const amount = taken.closest(".formset-row").querySelector("input[name$=amount]");
    if (amount) { amount.focus(); }
    return;
  }
  const previous = rows ? rows.querySelectorAll("input[name$=amount]") : [];
  const lastAmount = previous.length ? previous[previous.length - 1].value : "";
  const row = addFormsetRow(prefix);
  if (!row) { return; }
  row.querySelector("[data-fill=pk]").value = pk;
  row.querySelector("[data-fill=label]").textContent = pick.getAttribute("data-label");
  row.querySelector("[data-fill=warning]").textContent = pick.getAttribute("data-warning") || "";
  const amount = row.querySelector("input[name$=amount]");
  if (amount) {
    amount.value = lastAmount;
    amount.focus();
    amount.select();
  }
  pick.disabled = true;
  pick.textContent = "已添加";
});

// A search box marked data-no-enter searches on Enter instead of sending the form it sits in.
document.addEventListener("keydown", function (event) {
  if (event.key === "Enter" && event.target.matches("input[data-no-enter]")) {
    event.preventDefault();
    event.target.dispatchEvent(new Event("search", { bubbles: true }));
  }
});

// After a refused save, a form marked data-focus-error puts the cursor on the first field to correct.
document.addEventListener("DOMContentLoaded", function () {
  const invalid = document.querySelector("form[data-focus-error] .is-invalid, form[data-focus-error] .invalid-feedback.d-block");
  if (invalid) {
    const field = invalid.matches("input, select, textarea") ? invalid
      : invalid.parentElement.querySelector("input:not([type=hidden]), select, textarea");
    if (field) { field.focus(); }
  }
});
