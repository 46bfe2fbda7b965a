/* Small progressive enhancements. No inline scripts anywhere (strict CSP).
 *
 * data-confirm="Question?" on a <form> (or on a submit button) asks for confirmation
 * before submitting; without JavaScript the form simply submits.
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
})();
