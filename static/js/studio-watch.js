"use strict";
// The studio on a listing's page (templates/studio/): follows the listing's work live and keeps the apply
// bar's choice in step with the fields being edited. Does nothing on pages without these elements.
(function () {
  var source = null;

  function announce(name) {
    document.body.dispatchEvent(new CustomEvent(name, { bubbles: true }));
  }

  // Replace the element with the same id as the fragment (a card's state or the batch bar).
  function place(html) {
    var holder = document.createElement("template");
    holder.innerHTML = html.trim();
    var fresh = holder.content.firstElementChild;
    var current = fresh && fresh.id ? document.getElementById(fresh.id) : null;
    if (!current) return;
    var ended = fresh.dataset.finished === "true" && current.dataset.finished === "false";
    current.replaceWith(fresh);
    if (window.htmx) window.htmx.process(fresh);
    // A generation that ends may refund credits: the balance looks again.
    if (ended) announce("balance-changed");
  }

  function stop() {
    if (source) source.close();
    source = null;
  }

  // Open the listing's event stream while the batch bar says work is running (one stream per page).
  function watch() {
    var bar = document.querySelector("#batch-status[data-watching]");
    if (!bar || source || !window.EventSource) return;
    source = new EventSource(bar.dataset.watchUrl);
    source.addEventListener("card", function (event) { place(event.data); });
    source.addEventListener("batch", function (event) { place(event.data); });
    source.addEventListener("done", function (event) { place(event.data); stop(); });
    source.addEventListener("error", function () {
      // A stream that reached its time limit reconnects by itself; one the server refused stays closed.
      if (source && source.readyState === EventSource.CLOSED) source = null;
    });
  }

  // Typing instructions or picking a staging style chooses that entry, and the price line looks again shortly
  // after the last key. Until it has, the confirm shows no price: a click on it asks for the price at once.
  var PRICE_DELAY_MS = 300;
  var pending = null;
  function priceNow() {
    clearTimeout(pending);
    pending = null;
    announce("choice-changed");
  }
  function priceIsStale() {
    var button = document.getElementById("apply-submit");
    if (!button || button.dataset.stale) return;
    button.dataset.stale = "true";
    button.disabled = false;
    button.textContent = "Show the price";
  }
  function chooseFor(field) {
    var form = field.closest("form");
    var radio = form && form.querySelector('input[name="choice"][value="' + field.dataset.selectsChoice + '"]');
    if (radio && !radio.disabled && !radio.checked) radio.checked = true;
    priceIsStale();
    clearTimeout(pending);
    pending = setTimeout(priceNow, PRICE_DELAY_MS);
  }
  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("[data-selects-choice]")) chooseFor(event.target);
  });
  // A click on a confirm whose price is not shown yet shows it (and confirms nothing).
  document.addEventListener("click", function (event) {
    if (!event.target.closest || !event.target.closest("#apply-submit[data-stale]")) return;
    event.preventDefault();
    priceNow();
  });
  // Text typed in the bar is priced as it is typed; leaving the box must not redraw the price line again, or the
  // confirm would be replaced between the press and the release of the click that left the box (a lost click).
  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field.closest && field.closest("#apply-bar") && field.matches("textarea, input[type=text]")) {
      event.stopPropagation();
    }
  }, true);

  // Enter in the "save as preset" name saves the preset; it must not confirm the whole batch.
  document.addEventListener("keydown", function (event) {
    var field = event.target;
    if (event.key !== "Enter" || !field.closest || !field.closest(".save-preset")) return;
    event.preventDefault();
    var save = field.closest(".save-preset").querySelector("button");
    if (save) save.click();
  });

  document.addEventListener("DOMContentLoaded", watch);
  document.addEventListener("htmx:afterSettle", watch);
  window.addEventListener("pagehide", stop);
})();
