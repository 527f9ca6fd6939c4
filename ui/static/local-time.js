// Shows each time of the page (a <time datetime> in UTC) in the browser's
// own time zone and the page's language, through Intl. The UTC text the
// server wrote stays as the element's title, and stays shown without
// JavaScript or without Intl.
(function () {
  "use strict";
  if (!window.Intl || !Intl.DateTimeFormat) {
    return;
  }
  var lang = document.documentElement.lang || undefined;
  var times = document.querySelectorAll("time[datetime]");
  for (var i = 0; i < times.length; i++) {
    var e = times[i];
    var stamp = e.getAttribute("datetime");
    var d = new Date(stamp);
    if (isNaN(d.getTime())) {
      continue;
    }
    var o = { year: "numeric", month: "short", day: "numeric", hour: "numeric", minute: "2-digit", timeZoneName: "short" };
    if (/T\d\d:\d\d:\d\d/.test(stamp)) {
      o.second = "2-digit";
    }
    try {
      e.textContent = new Intl.DateTimeFormat(lang, o).format(d);
    } catch (err) {
      // The UTC text stays.
    }
  }
})();
