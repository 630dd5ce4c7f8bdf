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
