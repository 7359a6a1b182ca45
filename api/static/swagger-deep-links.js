// Flyte's link rels name operations the way Swagger UI 2 did, "#!/tag/operationId";
// Swagger UI 5 deep-links the same operation as "#/tag/operationId". The rels are
// part of the wire contract, so the page translates them instead.
(function () {
  "use strict";

  function translateHash() {
    var hash = window.location.hash;
    if (hash.indexOf("#!/") === 0) {
      window.history.replaceState(null, "", "#/" + hash.slice(3));
    }
  }

  translateHash();
  window.ui = SwaggerUIBundle({
    // The page names the document, so this file holds no URL of its own.
    url: document.getElementById("swagger-ui").dataset.url,
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "StandaloneLayout"
  });
})();
