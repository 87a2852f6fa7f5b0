/* Progressive enhancement only: the site works without this file. */
(function () {
  "use strict";

  // After htmx swaps a step in, move focus to what changed: the error summary, else the heading.
  document.addEventListener("htmx:afterSettle", function (event) {
    if (!event.detail.target || event.detail.target.id !== "main") return;
    var target = document.querySelector("#main .error-summary") || document.querySelector("#main h1");
    if (target) {
      target.setAttribute("tabindex", "-1");
      target.focus();
    }
  });

  // Warn two minutes before the idle session ends, with a button to stay.
  var body = document.body;
  var timeout = Number(body.getAttribute("data-session-timeout") || 0);
  var dialog = document.getElementById("session-warning");
  if (!timeout || !dialog || typeof dialog.showModal !== "function") return;
  var timer = null;
  function arm() {
    window.clearTimeout(timer);
    timer = window.setTimeout(function () { dialog.showModal(); }, Math.max(timeout - 120, 1) * 1000);
  }
  dialog.querySelector("button").addEventListener("click", function () {
    fetch(dialog.getAttribute("data-keep-alive"), { credentials: "same-origin" }).then(function (response) {
      if (response.status !== 204) {
        // Too late: the session ended, and the answer is the page that says so.
        window.location.assign(response.url);
        return;
      }
      dialog.close();
      arm();
    });
  });
  document.addEventListener("htmx:afterRequest", arm);
  arm();
})();
