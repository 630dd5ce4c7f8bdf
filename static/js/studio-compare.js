"use strict";
// Compare & deliver (no-op on pages without these elements; the CSP allows no inline script).
// A zip that has just become ready downloads at once: the agent clicked "Download…" and waits for the file.
(function () {
  function saveReadyZip(root) {
    var link = root.querySelector && root.querySelector("a[data-auto-download]:not([data-downloaded])");
    if (!link) return;
    link.setAttribute("data-downloaded", "");
    link.click();
  }
  document.addEventListener("htmx:afterSwap", function (event) { saveReadyZip(event.detail.target || document); });
})();
