// Flyte console: refreshes the Overview's counts by polling /console/overview.json.
// No other page runs script; values are written with textContent, never as HTML.
(function () {
  "use strict";
  var overview = document.getElementById("overview");
  if (!overview) {
    return;
  }
  var intervalMs = parseInt(overview.getAttribute("data-poll-ms") || "5000", 10);

  function show(counts, refreshedAt) {
    var nodes = document.querySelectorAll("[data-count]");
    for (var i = 0; i < nodes.length; i++) {
      var name = nodes[i].getAttribute("data-count");
      if (Object.prototype.hasOwnProperty.call(counts, name)) {
        nodes[i].textContent = String(counts[name]);
      }
    }
    var stamp = document.getElementById("refreshed-at");
    if (stamp && refreshedAt) {
      stamp.textContent = refreshedAt;
    }
  }

  function poll() {
    fetch("/console/overview.json", {
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("overview.json answered " + response.status);
        }
        return response.json();
      })
      .then(function (body) {
        show(body.counts || {}, body.refreshedAt);
        overview.classList.remove("stale");
      })
      .catch(function () {
        // Keep the last numbers on screen and mark them stale; try again later.
        overview.classList.add("stale");
      })
      .then(function () {
        window.setTimeout(poll, intervalMs);
      });
  }

  window.setTimeout(poll, intervalMs);
})();
