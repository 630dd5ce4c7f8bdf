"use strict";
// The listing page's drop zone: each photo is sent in its own request (two or three at a time), with its own
// progress bar and, when the server refuses it, its own message; the grid refreshes as photos arrive.
(function () {
  var IN_FLIGHT = 3;

  function setUp() {
    var form = document.getElementById("photo-upload");
    if (!form || !window.XMLHttpRequest || !window.FormData) return;
    var input = form.querySelector("input[type=file]");
    var list = form.querySelector(".upload-list");
    var submit = form.querySelector(".upload-submit");
    var queue = [];
    var running = 0;
    var refreshing = false;
    var refreshAgain = false;
    var nextPosition = 0;  // files keep the order they were chosen in, though they arrive in any order
    if (submit) submit.hidden = true;  // choosing files starts the upload; the button is for pages without script

    function refreshGrid() {
      if (refreshing) { refreshAgain = true; return; }
      refreshing = true;
      window.htmx.ajax("GET", form.dataset.gridUrl, { target: "#image-grid", swap: "outerHTML" }).then(function () {
        refreshing = false;
        if (refreshAgain) { refreshAgain = false; refreshGrid(); }
      });
    }

    function line(file) {
      var item = document.createElement("li");
      item.className = "upload-item";
      var name = document.createElement("span");
      name.className = "upload-name";
      name.textContent = file.name;
      var bar = document.createElement("progress");
      bar.max = 100;
      bar.value = 0;
      bar.setAttribute("aria-label", "Uploading " + file.name);
      var status = document.createElement("span");
      status.className = "upload-status";
      status.textContent = "Waiting";
      item.append(name, bar, status);
      list.append(item);
      return { item: item, bar: bar, status: status };
    }

    function finish(view, ok, text) {
      view.item.classList.add(ok ? "upload-done" : "upload-failed");
      view.bar.value = 100;
      view.status.textContent = text;
      if (!ok) view.item.setAttribute("role", "alert");
    }

    function answerOf(request) {
      try { return JSON.parse(request.responseText); } catch (error) { return {}; }
    }

    function send(task) {
      running += 1;
      var request = new XMLHttpRequest();
      var body = new FormData();
      body.append("csrf_token", form.querySelector("input[name=csrf_token]").value);
      body.append("photos", task.file, task.file.name);
      body.append("position", String(task.position));
      request.open("POST", form.action);
      request.setRequestHeader("X-Photo-Upload", "one");
      request.upload.addEventListener("progress", function (event) {
        if (!event.lengthComputable) return;
        var percent = Math.min(99, Math.round((event.loaded / event.total) * 100));
        task.view.bar.value = percent;
        task.view.status.textContent = percent + "%";
      });
      request.addEventListener("load", function () {
        var answer = answerOf(request);
        if (request.status === 201) {
          finish(task.view, true, answer.message || "Uploaded");
          if (answer.duplicateOf) task.view.item.classList.add("upload-note");
          refreshGrid();
        } else {
          var fallback = task.file.name + " could not be uploaded; reload the page and try again.";
          finish(task.view, false, answer.error || fallback);
        }
        next();
      });
      request.addEventListener("error", function () {
        finish(task.view, false, task.file.name + " could not be sent: check your connection and try again.");
        next();
      });
      request.send(body);
    }

    function next() {
      running -= 1;
      pump();
      if (!running && !queue.length) settle();
    }

    // Once every file has an answer, the photos that simply arrived fold into one line, so the grid is not pushed
    // down by twenty "Uploaded" rows; refusals and duplicate notes stay where the agent is looking.
    function settle() {
      var done = list.querySelectorAll(".upload-done:not(.upload-note)").length;
      var summary = list.querySelector(".upload-summary") || document.createElement("li");
      summary.className = "upload-summary";
      summary.textContent = done === 1 ? "1 photo uploaded." : done + " photos uploaded.";
      list.prepend(summary);
      list.classList.add("settled");
    }

    function pump() {
      while (running < IN_FLIGHT && queue.length) send(queue.shift());
    }

    function add(files) {
      var grid = document.getElementById("image-grid");
      nextPosition = Math.max(nextPosition, Number(grid && grid.dataset.nextPosition) || 1);
      list.classList.remove("settled");
      Array.prototype.forEach.call(files, function (file) {
        queue.push({ file: file, view: line(file), position: nextPosition++ });
      });
      pump();
    }

    input.addEventListener("change", function () {
      add(input.files);
      input.value = "";  // the same photos can be chosen again, and the box never shows stale names
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (input.files.length) { add(input.files); input.value = ""; }
    });
    // Photos dropped anywhere on the page upload, rather than the browser opening the file instead of the page.
    function carriesFiles(event) {
      return event.dataTransfer && Array.prototype.indexOf.call(event.dataTransfer.types || [], "Files") >= 0;
    }
    ["dragenter", "dragover"].forEach(function (name) {
      document.addEventListener(name, function (event) {
        if (!carriesFiles(event)) return;
        event.preventDefault();
        form.classList.add("drop-active");
      });
    });
    document.addEventListener("dragleave", function (event) {
      if (!event.relatedTarget) form.classList.remove("drop-active");
    });
    document.addEventListener("drop", function (event) {
      form.classList.remove("drop-active");
      if (!event.dataTransfer || !event.dataTransfer.files.length) return;
      event.preventDefault();
      add(event.dataTransfer.files);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUp);
  else setUp();
})();
