/* The invitation letter: the "Print" button (hidden without JavaScript; the browser's own
 * print command works the same). It prints once the letter's fonts have arrived, so that
 * no line is printed in a fallback font.
 */
(function () {
  "use strict";

  var buttons = document.querySelectorAll("[data-print-letter]");
  Array.prototype.forEach.call(buttons, function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var ready = document.fonts ? document.fonts.ready : Promise.resolve();
      ready.then(function () {
        window.print();
      });
    });
  });
})();
