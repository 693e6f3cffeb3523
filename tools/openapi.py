"""`make openapi`: write the OpenAPI 3.1 document generated from the handler's routes to docs/openapi.json."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

OUTPUT = Path(__file__).resolve().parent.parent / "docs" / "openapi.json"


def main() -> int:
    # The handler validates its configuration at import (as at a cold start); the document needs none of it.
    os.environ.setdefault("TABLE_NAME", "openapi-document-only")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ.setdefault("CHECK_QUEUE_URL", "openapi-document-only")
    os.environ.setdefault("CHECK_KEY_ID", "openapi-document-only")
    from functions.check_api.app import openapi_json

    OUTPUT.parent.mkdir(exist_ok=True)
    OUTPUT.write_text(json.dumps(json.loads(openapi_json()), indent=2) + "\n", encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(Path.cwd()) if OUTPUT.is_relative_to(Path.cwd()) else OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
