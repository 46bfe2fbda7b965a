/* File fields drawn as Bootstrap Italia uploads (templates/macros/forms.html): the native
 * input is hidden behind its translated button, so the names of the chosen files are
 * listed below it, in <ul id="..." data-upload-none="No file chosen yet."> named by the
 * input's data-upload-list. Loaded once per file field: it runs once per page.
 */
(function () {
  "use strict";

  if (window.mediationUpload) { return; }
  window.mediationUpload = true;

  function sizeText(bytes) {
    var kb = Math.max(1, Math.ceil(bytes / 1024));
    return kb < 1024 ? kb + " KB" : (Math.round(kb / 102.4) / 10) + " MB";
  }

  function show(input) {
    var list = document.getElementById(input.getAttribute("data-upload-list"));
    if (!list) { return; }
    list.textContent = "";
    var files = Array.prototype.slice.call(input.files || []);
    if (files.length === 0) {
      var none = list.getAttribute("data-upload-none");
      if (none) {
        var empty = document.createElement("li");
        empty.className = "small text-muted";
        empty.textContent = none;
        list.appendChild(empty);
      }
      return;
    }
    files.forEach(function (file) {
      var item = document.createElement("li");
      item.className = "upload-file success";
      var text = document.createElement("p");
      text.textContent = file.name;
      var size = document.createElement("span");
      size.className = "upload-file-weight";
      size.textContent = sizeText(file.size);
      text.appendChild(document.createTextNode(" "));
      text.appendChild(size);
      item.appendChild(text);
      list.appendChild(item);
    });
  }

  function start() {
    document.querySelectorAll("input[type=file][data-upload-list]").forEach(function (input) {
      input.addEventListener("change", function () { show(input); });
      show(input);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
