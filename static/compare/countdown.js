// Count down every element marked data-countdown, from the seconds the server rendered
// (data-seconds), so the result does not depend on the visitor's clock being right.
// Loaded as a file (no inline script), so it runs under a strict Content-Security-Policy.
(function () {
  "use strict";

  var timers = Array.prototype.slice.call(document.querySelectorAll("[data-countdown]"));
  if (!timers.length) {
    return;
  }
  var loadedAt = Date.now();

  function format(seconds) {
    var hours = Math.floor(seconds / 3600);
    var minutes = Math.floor((seconds % 3600) / 60);
    var secs = seconds % 60;
    var mmss = (hours ? String(minutes).padStart(2, "0") : String(minutes)) + ":" +
      String(secs).padStart(2, "0");
    return hours ? hours + ":" + mmss : mmss;
  }

  function tick() {
    var elapsed = Math.floor((Date.now() - loadedAt) / 1000);
    timers.forEach(function (timer) {
      var left = Number(timer.getAttribute("data-seconds")) - elapsed;
      if (left > 0) {
        timer.textContent = format(left) + " left";
        timer.classList.remove("expired");
      } else {
        timer.textContent = timer.getAttribute("data-expired-text") || "expired";
        timer.classList.add("expired");
      }
    });
  }

  tick();
  window.setInterval(tick, 1000);
})();
