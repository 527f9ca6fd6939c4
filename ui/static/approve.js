// Opens a sign-in request from the link of a notification. The link
// carries its token in the fragment (#t=...), which browsers never send to
// a server, so that no log or proxy sees it: this script posts it, then
// removes it from the address bar and the history.
(function () {
  "use strict";
  var form = document.getElementById("push-open");
  if (!form) {
    return;
  }
  var m = /(?:^#|&)t=([A-Za-z0-9_-]{43})(?:&|$)/.exec(window.location.hash);
  if (!m) {
    document.getElementById("push-opening").hidden = true;
    document.getElementById("push-missing").hidden = false;
    return;
  }
  form.elements.t.value = m[1];
  if (window.history && window.history.replaceState) {
    window.history.replaceState(null, "", window.location.pathname);
  }
  form.submit();
})();
