/* The request form: searchable selects and fields shown only when they apply.
 * Progressive enhancement: without JavaScript every field is visible and works.
 *
 * <select data-filter-select data-filter-label="Search" data-filter-empty="None"
 *         data-filter-placeholder="e.g. Arabic">:
 *   a text box above the select keeps only the options whose text contains what is typed.
 * <div data-show-if-field="mode" data-show-if-value="in_person">:
 *   shown only while the field named "mode" has that value.
 */
(function () {
  "use strict";

  function normalise(text) {
    return text.toLocaleLowerCase().normalize("NFD").replace(/[\u0300-\u036f]/g, "");
  }

  function filterableSelect(select) {
    var options = Array.prototype.slice.call(select.options);
    var wrapper = document.createElement("div");
    wrapper.className = "form-group app-field mb-2 app-select-filter";
    var input = document.createElement("input");
    input.type = "search";
    input.className = "form-control";
    input.id = select.id + "-filter";
    input.setAttribute("autocomplete", "off");
    input.setAttribute("aria-controls", select.id);
    input.placeholder = select.getAttribute("data-filter-placeholder") || "";
    var label = document.createElement("label");
    label.className = "app-label active";
    label.htmlFor = input.id;
    label.textContent = select.getAttribute("data-filter-label") || "Search";
    var status = document.createElement("small");
    status.className = "form-text d-block";
    status.setAttribute("role", "status");
    wrapper.appendChild(label);
    wrapper.appendChild(input);
    wrapper.appendChild(status);
    var group = select.closest(".form-group") || select;
    group.parentNode.insertBefore(wrapper, group);

    input.addEventListener("input", function () {
      var query = normalise(input.value.trim());
      var selected = select.value;
      var shown = 0;
      select.textContent = "";
      options.forEach(function (option) {
        var keep = !query || option.value === "" || option.value === selected ||
          normalise(option.text).indexOf(query) !== -1;
        if (keep) {
          select.appendChild(option);
          if (option.value !== "") { shown += 1; }
        }
      });
      select.value = selected;
      if (shown === 1 && select.value === "") {
        // One match: choose it, as a person typing a language name expects.
        Array.prototype.forEach.call(select.options, function (option) {
          if (option.value !== "") { select.value = option.value; }
        });
      }
      status.textContent = shown === 0 ? (select.getAttribute("data-filter-empty") || "") : "";
    });
  }

  function currentValue(form, name) {
    var fields = form.querySelectorAll("[name='" + name + "']");
    for (var i = 0; i < fields.length; i += 1) {
      var field = fields[i];
      if (field.type === "radio" || field.type === "checkbox") {
        if (field.checked) { return field.value; }
      } else {
        return field.value;
      }
    }
    return "";
  }

  function conditional(block) {
    var form = block.closest("form");
    var name = block.getAttribute("data-show-if-field");
    var value = block.getAttribute("data-show-if-value");
    if (!form || !form.querySelector("[name='" + name + "']")) { return; }
    function update() {
      var show = currentValue(form, name) === value;
      // Keep a block visible when it holds an error, so the message is never hidden.
      block.hidden = !show && !block.querySelector(".is-invalid");
    }
    form.addEventListener("change", function (event) {
      if (event.target.name === name) { update(); }
    });
    update();
  }

  function parseList(element, name) {
    try {
      return JSON.parse(element.getAttribute(name) || "[]");
    } catch (error) {
      return [];
    }
  }

  /* <fieldset data-closures='["2026-12-07"]' data-closure-ends='["2026-12-08"]'
   *   data-closure-names='["Ponte"]' data-message-closed="... {name} ..."
   *   data-message-weekend="..." data-message-period="...">
   * with <input type="date" data-school-day min max> inside: the day picked is checked
   * at once (weekend, closure, outside the project's period), with the server's words.
   * ISO dates compare as strings. */
  function schoolDays(fieldset) {
    var starts = parseList(fieldset, "data-closures");
    var ends = parseList(fieldset, "data-closure-ends");
    var names = parseList(fieldset, "data-closure-names");

    function problem(input) {
      var value = input.value;
      if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) { return ""; }
      var weekday = new Date(value + "T12:00:00Z").getUTCDay();
      if (weekday === 0 || weekday === 6) {
        return fieldset.getAttribute("data-message-weekend") || "";
      }
      if ((input.min && value < input.min) || (input.max && value > input.max)) {
        return fieldset.getAttribute("data-message-period") || "";
      }
      for (var i = 0; i < starts.length; i += 1) {
        if (starts[i] <= value && value <= ends[i]) {
          return (fieldset.getAttribute("data-message-closed") || "").replace("{name}", names[i]);
        }
      }
      return "";
    }

    fieldset.querySelectorAll("input[type=date][data-school-day]").forEach(function (input) {
      var note = document.createElement("small");
      note.className = "form-text d-block text-danger fw-semibold app-day-check";
      note.id = input.id + "-check";
      note.setAttribute("aria-live", "polite");
      input.parentNode.appendChild(note);
      var described = input.getAttribute("aria-describedby");
      input.setAttribute("aria-describedby", (described ? described + " " : "") + note.id);
      function update() { note.textContent = problem(input); }
      input.addEventListener("change", update);
      input.addEventListener("input", update);
      update();
    });
  }

  document.querySelectorAll("select[data-filter-select]").forEach(filterableSelect);
  document.querySelectorAll("[data-show-if-field]").forEach(conditional);
  document.querySelectorAll("fieldset[data-closures]").forEach(schoolDays);
})();
