"""`GET /` and `GET /page/{asset}`: the reference settings page (plain HTML, CSS and one ES module in
`static/page/`), served from the API's own origin, so it calls the API without CORS.

Its words come from the API's catalogues: `texts.<locale>.json` is the part of the catalogue the page
shows (its own `page.*` keys and the names of stages and statuses), read at request time, so the page and
the API's answers cannot disagree. Outside the schema: this is a page, not part of the API's contract.
"""

import functools
import json

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from smtp_preflight.wording.i18n import LOCALES, catalogue

from ..browser_files import CSS, HTML, JAVASCRIPT, JSON, PAGE_POLICY, SVG, Asset, BrowserFiles, static_file

PAGE_PATH = "/"
ASSET_PATH = "/page/<asset>"
PATHS = (PAGE_PATH, "/page/{asset}")  # as template.yaml routes them (Auth: NONE)
TEXT_PREFIXES = ("page.", "stage.", "progress.", "status.", "mode.")
"""The catalogue keys the page shows: its own texts, stage names, statuses and security modes."""

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]  # Powertools leaves __init__ unannotated


def page_texts(locale: str) -> dict[str, str]:
    """The page's words in `locale`, from the API's catalogue (English where a text is missing)."""
    english, wanted = catalogue("en"), catalogue(locale)
    return {key: wanted.get(key, text) for key, text in english.items() if key.startswith(TEXT_PREFIXES)}


def texts_json(locale: str) -> str:
    return json.dumps(page_texts(locale), ensure_ascii=False, sort_keys=True)


PAGE = BrowserFiles(
    document=static_file("page/index.html", HTML),
    files={
        "page.js": static_file("page/page.js", JAVASCRIPT),
        "page.css": static_file("page/page.css", CSS),
        "icon.svg": static_file("page/icon.svg", SVG),
        **{f"texts.{locale}.json": Asset(JSON, functools.partial(texts_json, locale)) for locale in LOCALES},
    },
    policy=PAGE_POLICY,
)

PAGE.serve(router, PAGE_PATH, ASSET_PATH)
