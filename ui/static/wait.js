// Waits for the phone call (or app notification) of the page to be
// answered, by long-polling the portal, then presses Continue, saying what
// it does (data-approved: signing in, finishing the setup, adding the
// phone). A page shown already approved (data-state) goes on at once.
// Without JavaScript the page reloads itself every few seconds and the
// user presses Continue.
(function () {
  "use strict";
  var form = document.getElementById("call-finish");
  var status = document.getElementById("call-status");
  if (!form || !window.fetch) {
    return;
  }
  var url = form.getAttribute("data-status");
  var failures = 0;
  function approved() {
    var text = status && status.getAttribute("data-approved");
    if (text) {
      status.textContent = text;
    }
    form.submit();
  }
  if (form.getAttribute("data-state") === "approved") {
    approved();
    return;
  }
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (r.status === 401 || r.status === 403) {
          // Signed out, or finished in another tab: the page knows where to go.
          window.location.reload();
          return { status: "stop" };
        }
        if (!r.ok) {
          throw new Error("status " + r.status);
        }
        failures = 0;
        return r.json();
      })
      .then(function (d) {
        if (d.status === "stop") {
          return;
        }
        if (d.status === "pending") {
          poll();
        } else if (d.status === "approved") {
          approved();
        } else {
          window.location.reload();
        }
      })
      .catch(function () {
        // The gateway is unreachable for now: try again, less and less often.
        failures += 1;
        window.setTimeout(poll, Math.min(3000 * failures, 30000));
      });
  }
  poll();
})();
