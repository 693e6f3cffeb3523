"""What the API serves to browsers: the settings page at `/` and the API reference at `/docs`, with
their files, from the API's own origin, without a token, under a Content-Security-Policy that allows no
inline script and no framing. The reference shows exactly the committed OpenAPI document."""

from __future__ import annotations

import base64
import gzip
import json
import re
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path

import pytest

from smtp_preflight.wording.i18n import LOCALES, catalogue
from tests.integration.api.conftest import Api, ApiResponse

ROOT = Path(__file__).resolve().parents[3]
OPENAPI_FILE = ROOT / "docs" / "openapi.json"
SWAGGER_UI = "aws_lambda_powertools.event_handler.openapi.swagger_ui"


class Elements(HTMLParser):
    """Every start tag of a document with its attributes, and the text each `data-text` element holds."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.texts: dict[str, str] = {}
        self._open: str | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._open = dict(attrs).get("data-text")

    def handle_data(self, data: str) -> None:
        if self._open is not None and data.strip():
            self.texts[self._open] = data.strip()
            self._open = None

    def script_sources(self) -> list[str | None]:
        return [attrs.get("src") for tag, attrs in self.tags if tag == "script"]


def get(api: Api, path: str, **headers: str) -> ApiResponse:
    return api.call("GET", path, authorizer=False, headers=headers or None)


def body_bytes(response: ApiResponse) -> bytes:
    raw = base64.b64decode(response.raw_body) if response.headers.get("content-encoding") else None
    return gzip.decompress(raw) if raw is not None else response.raw_body.encode()


def assert_safe_for_browsers(response: ApiResponse) -> None:
    policy = response.headers["content-security-policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["frame-ancestors"] == "'none'"
    assert directives["script-src"] == "'self'", "no inline script, no other origin"
    assert "'unsafe-eval'" not in policy
    assert all("http" not in sources for sources in directives.values()), "nothing from another origin"
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("path", ["/", "/docs"])
def test_pages_need_no_token_and_allow_no_inline_script(api: Api, path: str) -> None:
    response = get(api, path)

    assert response.status == 200
    assert response.headers["content-type"].startswith("text/html")
    assert_safe_for_browsers(response)
    document = Elements(response.raw_body)
    assert document.script_sources()
    assert None not in document.script_sources(), "every script is a file"
    handlers = [name for _tag, attrs in document.tags for name in attrs if name.startswith("on")]
    assert handlers == [], "no inline event handlers"
    for _tag, attrs in document.tags:
        for link in (attrs.get("src"), attrs.get("href")):
            assert link is None or not re.match(r"^(?:[a-z]+:)?//", link), f"{link} is another origin"


def test_every_file_the_page_names_is_served(api: Api) -> None:
    page = Elements(get(api, "/").raw_body)
    named = [attrs.get("src") or attrs.get("href") for tag, attrs in page.tags if tag in {"script", "link"}]
    named += [f"page/texts.{locale}.json" for locale in LOCALES]

    for path in named:
        response = get(api, f"/{path}")
        assert response.status == 200, path
        assert_safe_for_browsers(response)


def test_the_page_speaks_the_api_catalogues(api: Api) -> None:
    texts = {locale: get(api, f"/page/texts.{locale}.json").json for locale in LOCALES}
    page = Elements(get(api, "/").raw_body)

    for locale in LOCALES:
        assert {key: catalogue(locale)[key] for key in texts[locale]} == texts[locale]
    assert texts["it"]["page.check"] != texts["en"]["page.check"]
    assert texts["de"]["stage.auth"] == catalogue("de")["stage.auth"]
    # the HTML's own words (shown before the module runs) are the English catalogue's
    assert page.texts, "the page names its texts"
    assert {key: texts["en"][key] for key in page.texts} == page.texts


def test_every_input_is_named_after_the_api_field_it_fills(api: Api) -> None:
    document = json.loads(OPENAPI_FILE.read_text())
    fields = set(document["components"]["schemas"]["CheckRequest"]["properties"])
    page = Elements(get(api, "/").raw_body)
    named = {attrs["name"] for tag, attrs in page.tags if tag in {"input", "select"} and attrs.get("name")}

    assert named - {"email", "lang"} <= fields
    assert {"host", "port", "security", "authMethod", "username", "password", "oauthToken"} <= named
    assert {"fromAddress", "testRecipient", "settingsId"} <= named
    password = next(attrs for tag, attrs in page.tags if attrs.get("name") == "password")
    assert password["type"] == "password"
    assert password["autocomplete"] == "new-password", "never saved as the user's own login"
    labelled = {attrs.get("for") for tag, attrs in page.tags if tag == "label"}
    ids = {
        attrs.get("id")
        for tag, attrs in page.tags
        if tag in {"input", "select"} and attrs.get("type") != "hidden"
    }
    assert ids <= labelled, "every field has a label"


def test_an_unknown_file_is_a_404_error_body(api: Api) -> None:
    for path in ("/page/secrets.txt", "/page/..%2Fapp.py", "/docs/oauth2.py"):
        response = get(api, path)
        assert response.status == 404
        assert response.json["error"]["code"] == "NOT_FOUND"


def test_the_reference_shows_the_committed_document(api: Api) -> None:
    reference = Elements(get(api, "/docs").raw_body)
    [root] = [attrs for _tag, attrs in reference.tags if attrs.get("id") == "swagger-ui"]
    document_path = root["data-document"]

    served = get(api, f"/{document_path}")

    assert served.status == 200
    assert served.json == json.loads(OPENAPI_FILE.read_text())
    assert "<script" not in get(api, "/docs/reference.js").raw_body


def test_swagger_ui_comes_from_the_powertools_package_compressed(api: Api) -> None:
    bundled = resources.files(SWAGGER_UI).joinpath("swagger-ui-bundle.min.js").read_bytes()

    response = get(api, "/docs/swagger-ui-bundle.js", **{"Accept-Encoding": "gzip, br"})

    assert response.status == 200
    assert response.headers["content-encoding"] == "gzip"
    assert body_bytes(response) == bundled
    assert len(response.raw_body) < len(bundled) / 2
