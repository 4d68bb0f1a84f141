// Behaviour every page shares. It lives here, not in the HTML, so the Content-Security-Policy
// (web/headers.py) can refuse inline script: a page never runs a script it did not load from us.
(function () {
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js").catch(function () {});
  }
  document.addEventListener("click", function (event) {
    var target = event.target.closest("[data-action]");
    if (!target) { return; }
    var action = target.getAttribute("data-action");
    if (action === "reload") { location.reload(); }
    if (action === "print") { window.print(); }
    if (action === "reveal") {
      event.preventDefault();
      var shown = document.getElementById(target.getAttribute("data-target"));
      if (shown) { shown.hidden = false; }
    }
  });
  // A form with data-confirm asks before it is sent (revoking a 家庭共济 authorisation).
  document.addEventListener("submit", function (event) {
    var question = event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); }
  });
})();
