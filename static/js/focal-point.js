// Clicking a photo marked .focal-picker posts where it was clicked (0..1 on each axis) as its focal point.
document.addEventListener("click", function (event) {
  var photo = event.target.closest("img.focal-picker");
  if (!photo) return;
  var box = photo.getBoundingClientRect();
  var x = Math.min(1, Math.max(0, (event.clientX - box.left) / box.width));
  var y = Math.min(1, Math.max(0, (event.clientY - box.top) / box.height));
  var alias = document.querySelector("#image-properties input[name=alias]");
  htmx.ajax("POST", photo.dataset.focalUrl, {
    target: "#image-properties",
    swap: "outerHTML",
    values: { focal_x: x.toFixed(4), focal_y: y.toFixed(4), alias: alias ? alias.value : "" },
  });
  var marker = document.getElementById("focal-marker");
  if (marker) {
    marker.style.left = (x * 100) + "%";
    marker.style.top = (y * 100) + "%";
    marker.hidden = false;
  }
});
