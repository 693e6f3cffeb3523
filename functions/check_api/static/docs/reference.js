// Swagger UI on the API's own OpenAPI document (the one committed as docs/openapi.json), from this origin.
const root = document.getElementById("swagger-ui");
window.SwaggerUIBundle({
  url: new URL(root.dataset.document, document.baseURI).href,
  domNode: root,
  deepLinking: true,
  validatorUrl: null, // no badge fetched from another origin
  presets: [window.SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});
