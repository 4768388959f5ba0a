// The console's only script. Pages work without it; it adds two things:
// - a form is sent once: its submit button is disabled while the next page loads (the petition form also carries
//   an Idempotency-Key, so a second submission registers nothing twice); a download form (data-download) stays
//   usable, as no page follows it;
// - on a page with errors, focus moves to their summary, so a keyboard or screen-reader user starts there.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.hasAttribute("data-download")) { return; }
    if (form.dataset.sent) { event.preventDefault(); return; }
    form.dataset.sent = "1";
    window.setTimeout(function () {
      form.querySelectorAll("button[type=submit]").forEach(function (button) {
        button.disabled = true;
        button.setAttribute("aria-busy", "true");
      });
    }, 0);
  });
  // Back-forward cache: a page shown again may be used again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-sent]").forEach(function (form) {
      delete form.dataset.sent;
      form.querySelectorAll("button[type=submit]").forEach(function (button) {
        button.disabled = false;
        button.removeAttribute("aria-busy");
      });
    });
  });
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.getElementById("errors");
    if (summary) { summary.focus(); }
  });
})();
