// Shows the Print button of the recovery-codes page and opens the
// browser's print dialogue with it. Without JavaScript the button stays
// hidden (it could not work); Download needs no script.
(function () {
  "use strict";
  var button = document.getElementById("print-codes");
  if (!button || !window.print) {
    return;
  }
  button.hidden = false;
  button.addEventListener("click", function () {
    window.print();
  });
})();
