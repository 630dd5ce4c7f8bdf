"use strict";
// Compare & deliver (no-op on pages without these elements; the CSP allows no inline script).
(function () {
  // A zip that has just become ready downloads at once: the agent clicked "Download…" and waits for the file.
  function saveReadyZip(root) {
    var link = root.querySelector && root.querySelector("a[data-auto-download]:not([data-downloaded])");
    if (!link) return;
    link.setAttribute("data-downloaded", "");
    link.click();
  }

  // On a photo's page, a result that has just finished may be the new final version: re-read the
  // "Final version" and "Versions" sections from the page itself, and let the balance refresh (refunds).
  var refreshing = null;
  function refreshVersions() {
    if (!document.getElementById("final-version") || refreshing) return;
    refreshing = fetch(window.location.pathname, { headers: { "Accept": "text/html" }, credentials: "same-origin" })
      .then(function (answer) { return answer.ok ? answer.text() : null; })
      .then(function (html) {
        if (!html) return;
        var fresh = new DOMParser().parseFromString(html, "text/html");
        ["final-version", "versions"].forEach(function (id) {
          var now = document.getElementById(id), next = fresh.getElementById(id);
          if (now && next) now.replaceWith(next);
          else if (!now && next) document.getElementById("generations").after(next);
        });
      })
      .catch(function () { /* the sections stay as they were; a reload shows them */ })
      .then(function () { refreshing = null; });
  }

  function finished() {
    document.body.dispatchEvent(new CustomEvent("balance-changed", { bubbles: true }));
    refreshVersions();
  }

  // An address that points into folded details (#prepared-styles after saving a style) opens them.
  function openTarget() {
    var id = window.location.hash.slice(1);
    var target = id && document.getElementById(id);
    if (!target) return;
    var opened = false;
    for (var details = target.closest("details"); details; details = details.parentElement.closest("details")) {
      if (!details.open) { details.open = true; opened = true; }
    }
    if (opened) target.scrollIntoView();
  }
  document.addEventListener("DOMContentLoaded", openTarget);
  window.addEventListener("hashchange", openTarget);
  // The prepared-styles block arrives after the page (hx-trigger=load): open it then too.
  document.addEventListener("htmx:load", function (event) {
    var id = window.location.hash.slice(1);
    if (id && event.detail.elt && event.detail.elt.id === id) openTarget();
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target || document;
    saveReadyZip(target);
    // The fallback check swaps a generation card that has finished without its live stream.
    if (target.matches && target.matches(".generation.status-succeeded, .generation.status-failed")) finished();
  });
  document.addEventListener("htmx:sseClose", function (event) {
    if (event.detail && event.detail.type === "message") finished();
  });
})();
