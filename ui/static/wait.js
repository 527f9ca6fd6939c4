// Waits for the phone call of the page to be answered, by long-polling the
// portal, then completes the sign-in. Without JavaScript the page reloads
// itself every few seconds and the user presses Continue.
(function () {
  "use strict";
  var form = document.getElementById("call-finish");
  var status = document.getElementById("call-status");
  if (!form || !window.fetch) {
    return;
  }
  var url = form.getAttribute("data-status");
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok) {
          throw new Error("status " + r.status);
        }
        return r.json();
      })
      .then(function (d) {
        if (d.status === "pending") {
          poll();
        } else if (d.status === "approved") {
          if (status && d.text) {
            status.textContent = d.text;
          }
          form.submit();
        } else {
          window.location.reload();
        }
      })
      .catch(function () {
        window.setTimeout(poll, 3000);
      });
  }
  poll();
})();
