// Swagger UI over the registry's OpenAPI document. Loaded from a file (the content security
// policy forbids inline scripts); "Try it out" calls go with the session cookie and, for
// writes, the page's CSRF token, as the registry's own pages do.
(function () {
  "use strict";
  var root = document.getElementById("api-docs");
  if (!root || typeof window.SwaggerUIBundle !== "function") {
    return;
  }
  var csrf = document.querySelector('meta[name="csrf-token"]');
  window.SwaggerUIBundle({
    url: root.getAttribute("data-spec-url"),
    domNode: root,
    deepLinking: true,
    docExpansion: "list",
    defaultModelsExpandDepth: 0,
    validatorUrl: null,
    requestInterceptor: function (request) {
      if (csrf && request.method && request.method.toUpperCase() !== "GET") {
        request.headers["X-CSRFToken"] = csrf.getAttribute("content");
      }
      return request;
    },
  });
})();
