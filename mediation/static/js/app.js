/* Small progressive enhancements. No inline scripts anywhere (strict CSP).
 *
 * data-confirm="Question?" on a <form> (or on a submit button) asks for confirmation
 * before submitting; without JavaScript the form simply submits.
 *
 * Every <input type="date"> shows the chosen day in words under it, in the page's
 * language ("Thursday, 7 January 2027"): the browser writes the field itself in the
 * format of its own settings, and an American one shows 01/07/2027 for 7 January.
 */
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var button = event.submitter;
    var question = (button && button.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });

  if (!window.Intl || !Intl.DateTimeFormat) {
    return;
  }
  // English as it is written in Europe: the day before the month (mediation/i18n.py).
  var lang = document.documentElement.lang || "it";
  var days;
  try {
    days = new Intl.DateTimeFormat(lang === "en" ? "en-GB" : lang, {
      weekday: "long", day: "numeric", month: "long", year: "numeric", timeZone: "UTC"
    });
  } catch (error) {
    return;
  }

  function echo(input) {
    var text = document.createElement("small");
    text.className = "form-text d-block app-date-echo";
    text.setAttribute("aria-live", "polite");
    input.insertAdjacentElement("afterend", text);
    function update() {
      var match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(input.value);
      text.textContent = match ? days.format(new Date(Date.UTC(+match[1], +match[2] - 1, +match[3]))) : "";
    }
    input.addEventListener("input", update);
    input.addEventListener("change", update);
    update();
  }

  Array.prototype.forEach.call(document.querySelectorAll("input[type=date]"), echo);
})();
