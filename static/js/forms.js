// Small form behaviours, wired here because the CSP allows no inline script or event handler.
// A form marked data-confirm="question" is sent only after the person confirms.
document.addEventListener("submit", function (event) {
  var question = event.target.dataset && event.target.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});
// A field marked data-select-on-focus selects its whole text when focused (for copying a URL).
document.addEventListener("focusin", function (event) {
  if (event.target.matches && event.target.matches("[data-select-on-focus]")) event.target.select();
});
// A button marked data-copy-url copies the text found at that address (e.g. all descriptions as JSON).
document.addEventListener("click", function (event) {
  var button = event.target.closest && event.target.closest("[data-copy-url]");
  if (!button) return;
  fetch(button.dataset.copyUrl)
    .then(function (answer) { return answer.text(); })
    .then(function (text) { return navigator.clipboard.writeText(text); })
    .then(function () { button.textContent = "Copied"; })
    .catch(function () { button.textContent = "Copy failed: use Download JSON"; });
});
// An htmx error from inside an element marked data-error-place is shown in its [data-error-slot], next to the
// control the person just used, rather than in the page's alert area at the top.
document.addEventListener("htmx:beforeSwap", function (event) {
  if (!event.detail.isError) return;
  var place = event.detail.requestConfig.elt.closest("[data-error-place]");
  var slot = place && place.querySelector("[data-error-slot]");
  if (slot) event.detail.target = slot;
});
// A form marked data-sends-once (it starts paid work) disables its buttons once sent, so a second click cannot send
// it again; the server also answers a repeat of its form_key with the work already started. Disabled only after
// the browser has read the form, so the button's own name and value are still sent.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (event.defaultPrevented || !form.hasAttribute || !form.hasAttribute("data-sends-once")) return;
  setTimeout(function () {
    form.querySelectorAll("button, input[type=submit]").forEach(function (button) { button.disabled = true; });
  }, 0);
});
// Back to a page from the browser's history: its forms may be sent again (with the same key, so still once).
window.addEventListener("pageshow", function (event) {
  if (!event.persisted) return;
  document.querySelectorAll("form[data-sends-once] button, form[data-sends-once] input[type=submit]")
    .forEach(function (button) { button.disabled = false; });
});
