// certdoctor serve: the one script of the pages, optional (every page works without it).
// On the page of a running check, the list of its steps (#progress) grows in place from
// GET /api/v1/checks/ID/progress and the page is loaded again once the check has ended.
// On the triage page, each queued check (li[data-watch]) shows its state as it changes.
// Only text is written into the page (textContent), never markup.
(function () {
  "use strict";
  var lang = document.documentElement.lang === "ja" ? "ja" : "en";

  function progressUrl(id, from) {
    return "/api/v1/checks/" + encodeURIComponent(id) + "/progress?lang=" + lang + "&from=" + from;
  }

  function get(url) {
    return fetch(url, { cache: "no-store", credentials: "omit", redirect: "error" }).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    });
  }

  var list = document.getElementById("progress");
  if (list && list.getAttribute("data-live") === "yes") {
    var id = list.getAttribute("data-check");
    var next = list.querySelectorAll("li.step").length;
    var status = document.getElementById("status");
    var poll = function () {
      get(progressUrl(id, next)).then(function (j) {
        j.events.forEach(function (e) {
          var li = document.createElement("li");
          li.className = "step";
          li.textContent = e.text;
          list.appendChild(li);
        });
        next = j.next;
        if (status && j.status_text) {
          status.textContent = j.status_text;
          status.setAttribute("data-status", j.status);
        }
        if (j.status === "done" || j.status === "failed") {
          window.location.reload();
          return;
        }
        window.setTimeout(poll, 500);
      }).catch(function () { window.setTimeout(poll, 2000); });
    };
    window.setTimeout(poll, 250);
  }

  Array.prototype.forEach.call(document.querySelectorAll("li[data-watch]"), function (item) {
    var state = item.querySelector(".state");
    var watch = function () {
      get(progressUrl(item.getAttribute("data-watch"), 1000000)).then(function (j) {
        if (state && j.status_text) state.textContent = j.status_text;
        item.setAttribute("data-status", j.status);
        if (j.status !== "done" && j.status !== "failed") window.setTimeout(watch, 1000);
      }).catch(function () { window.setTimeout(watch, 3000); });
    };
    watch();
  });
})();
