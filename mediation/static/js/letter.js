/* The invitation letter: the "Print" button (hidden without JavaScript; the browser's own
 * print command works the same).
 */
(function () {
  "use strict";

  var buttons = document.querySelectorAll("[data-print-letter]");
  Array.prototype.forEach.call(buttons, function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      window.print();
    });
  });
})();
