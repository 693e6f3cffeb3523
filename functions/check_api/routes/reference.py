"""`GET /docs` and `GET /docs/{asset}`: a browsable reference of the API's own OpenAPI document.

Swagger UI's files come from the Powertools package (already in the layer: no CDN); a small page of
ours loads them and points Swagger UI at `/v1/openapi.json`, the very document committed as
`docs/openapi.json`. Powertools' `enable_swagger` is not used: it would generate a second document (its
own security schemes and validation schemas) and its `format` query parameter meets the API's strict
query check. No token needed (Auth: NONE in template.yaml), like the document itself.
"""

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from ..browser_files import CSS, HTML, JAVASCRIPT, REFERENCE_POLICY, BrowserFiles, package_file, static_file

REFERENCE_PATH = "/docs"
ASSET_PATH = "/docs/<asset>"
PATHS = (REFERENCE_PATH, "/docs/{asset}")  # as template.yaml routes them (Auth: NONE)
SWAGGER_UI = "aws_lambda_powertools.event_handler.openapi.swagger_ui"

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]  # Powertools leaves __init__ unannotated

REFERENCE = BrowserFiles(
    document=static_file("docs/index.html", HTML),
    files={
        "swagger-ui-bundle.js": package_file(SWAGGER_UI, "swagger-ui-bundle.min.js", JAVASCRIPT),
        "swagger-ui.css": package_file(SWAGGER_UI, "swagger-ui.min.css", CSS),
        "reference.js": static_file("docs/reference.js", JAVASCRIPT),
    },
    policy=REFERENCE_POLICY,
)

REFERENCE.serve(router, REFERENCE_PATH, ASSET_PATH)
