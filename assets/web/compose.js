// Live preview for the compose and edit forms (progressive enhancement: without JavaScript the
// "Preview" button renders the same preview server-side). Sends the form to /admin/preview,
// which answers the sanitised HTML fragment Mastodon users will see.
(function () {
  "use strict";
  var form = document.querySelector("form[data-preview]");
  var target = document.getElementById("preview-content");
  if (!form || !target || !window.fetch) return;
  var timer = null;
  var status = document.getElementById("preview-status");
  function refresh() {
    var data = new FormData(form);
    data.set("action", "preview");
    fetch(form.getAttribute("data-preview"), {
      method: "POST",
      body: new URLSearchParams(data),
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" }
    }).then(function (response) {
      return response.text().then(function (html) {
        target.innerHTML = html;
        if (status) status.textContent = response.ok ? "" : status.getAttribute("data-error");
      });
    }).catch(function () {
      if (status) status.textContent = status.getAttribute("data-error");
    });
  }
  form.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 400);
  });
})();
