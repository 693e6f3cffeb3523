"""Files the API serves to browsers (the settings page, the API reference), with the headers that keep
a browser safe: a Content-Security-Policy without inline scripts that forbids framing
(`frame-ancestors 'none'`), no MIME sniffing, no referrer.

Everything comes from this origin (no CDN): the page's files from `static/`, Swagger UI's from the
Powertools package the layer already ships. Files are read once per execution environment. Each route
module declares one `BrowserFiles` (its document, its files, its policy) and lets it serve its two
routes, so the page and the reference cannot drift apart in caching, compression, headers or what an
unknown name gets.
"""

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from .errors import ApiError
from .schemas import ApiErrorCode

STATIC = Path(__file__).resolve().parent / "static"

HTML = "text/html; charset=utf-8"
JAVASCRIPT = "text/javascript; charset=utf-8"
CSS = "text/css; charset=utf-8"
SVG = "image/svg+xml"
JSON = "application/json; charset=utf-8"

PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
)
"""The settings page: its own files and the API on the same origin, nothing inline; a form that only the
module may send (a page whose script failed must not put the password into a URL)."""

REFERENCE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
)
"""Swagger UI: no inline script either, but it styles elements inline and draws its icons as data: URLs."""

SAFETY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
PAGE_CACHE = "no-cache"  # the HTML: revalidate, so a new deployment shows at once
ASSET_CACHE = "public, max-age=300"  # scripts, styles and texts: short, they change with the deployment


@dataclass(frozen=True, slots=True)
class Asset:
    """One file a browser may ask for: its media type and how to read its text."""

    content_type: str
    read: Callable[[], str]


def static_file(relative: str, content_type: str) -> Asset:
    """A file of `static/` (the page's HTML, CSS, module, icon)."""
    return Asset(content_type, functools.cache(functools.partial((STATIC / relative).read_text, "utf-8")))


def package_file(package: str, name: str, content_type: str) -> Asset:
    """A file shipped inside an installed package (Swagger UI's, inside Powertools), found on first use:
    importing Powertools' swagger_ui package loads its OpenAPI models, too slow for every cold start."""

    def read() -> str:
        return resources.files(package).joinpath(name).read_text("utf-8")

    return Asset(content_type, functools.cache(read))


@dataclass(frozen=True, slots=True)
class BrowserFiles:
    """A document for browsers and the files it loads, under one Content-Security-Policy: the document
    revalidated on every visit (a new deployment shows at once), its files cached briefly, and a name it
    does not have a 404 error body like the API's."""

    document: Asset
    files: Mapping[str, Asset]
    policy: str

    def serve(self, router: APIGatewayHttpRouter, document_path: str, files_path: str) -> None:
        """Route `document_path` to the document and `files_path` (ending in `<asset>`) to its files,
        gzip-compressed for a browser that accepts it; neither is part of the API's OpenAPI document."""
        router.get(document_path, include_in_schema=False)(self.document_response)
        router.get(files_path, include_in_schema=False, compress=True)(self.file_response)

    def document_response(self) -> Response[Any]:
        return self._response(self.document, PAGE_CACHE)

    def file_response(self, asset: str) -> Response[Any]:
        found = self.files.get(asset)
        if found is None:
            raise ApiError(404, ApiErrorCode.NOT_FOUND, "No such file.")
        return self._response(found, ASSET_CACHE)

    def _response(self, asset: Asset, cache: str) -> Response[Any]:
        return Response(
            status_code=200,
            content_type=asset.content_type,
            body=asset.read(),
            headers={"Content-Security-Policy": self.policy, "Cache-Control": cache, **SAFETY_HEADERS},
        )
