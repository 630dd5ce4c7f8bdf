"use strict";
// Choosing photos on the listing page: one, several or all. Tells the page (selection-changed on body,
// with the chosen ids) whenever the choice changes, keeps the choice when the grid is redrawn and clears it
// once a batch started on it.
(function () {
  var kept = null;
  var focusAfterSwap = null;

  function boxes() { return Array.prototype.slice.call(document.querySelectorAll(".select-photo")); }

  function announce() {
    var all = boxes();
    var ids = all.filter(function (box) { return box.checked; }).map(function (box) { return box.value; });
    var count = document.getElementById("selected-count");
    if (count) count.textContent = ids.length + " selected";
    var selectAll = document.getElementById("select-all");
    if (selectAll) {
      selectAll.checked = all.length > 0 && ids.length === all.length;
      selectAll.indeterminate = ids.length > 0 && ids.length < all.length;
    }
    document.querySelectorAll(".delete-selected").forEach(function (button) { button.disabled = ids.length === 0; });
    document.body.dispatchEvent(new CustomEvent("selection-changed", { detail: { ids: ids } }));
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.id === "select-all") {
      boxes().forEach(function (box) { box.checked = target.checked; });
      announce();
    } else if (target.classList && target.classList.contains("select-photo")) {
      announce();
    }
  });

  // A batch started on the chosen photos: they are no longer chosen, so the confirm cannot run them twice.
  document.addEventListener("batch-started", function () {
    boxes().forEach(function (box) { box.checked = false; });
    announce();
  });

  // A redrawn grid (after an upload, a move, a new room) keeps the photos chosen and the photo's control in focus.
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (!event.detail.target || event.detail.target.id !== "image-grid") return;
    kept = boxes().filter(function (box) { return box.checked; }).map(function (box) { return box.value; });
    var active = document.activeElement;
    var card = active && active.closest && active.closest(".photo-card");
    focusAfterSwap = card && active.name ? { card: card.id, name: active.name, value: active.value } : null;
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (kept === null || !document.getElementById("image-grid")) return;
    boxes().forEach(function (box) { box.checked = kept.indexOf(box.value) >= 0; });
    kept = null;
    if (focusAfterSwap) {
      // The same button on the moved photo, or its other one when the photo reached the end of its room.
      var fields = Array.prototype.slice.call(
        document.querySelectorAll("#" + focusAfterSwap.card + " [name='" + focusAfterSwap.name + "']"));
      var value = focusAfterSwap.value;
      var usable = fields.filter(function (field) { return !field.disabled && field.value === value; })[0] ||
        fields.filter(function (field) { return !field.disabled; })[0];
      if (usable) usable.focus();
      focusAfterSwap = null;
    }
    announce();
  });
})();
