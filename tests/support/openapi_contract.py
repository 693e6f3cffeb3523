"""Every response the API tests see is checked against the committed OpenAPI document: its status must
be documented for that operation, its body must match the documented schema, and required headers must
be present. So the document cannot drift from what the API does.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

DOCUMENT_URI = "urn:smtp-preflight:openapi"


def _pointer(*parts: str) -> str:
    return "/" + "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)


@dataclass
class Contract:
    document: dict[str, Any]
    routes: list[tuple[re.Pattern[str], str]] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> Contract:
        contract = cls(json.loads(path.read_text(encoding="utf-8")))
        for template in contract.document["paths"]:
            regex = "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$"
            contract.routes.append((re.compile(regex), template))
        return contract

    def _registry(self) -> Registry[Any]:
        resource = Resource.from_contents(self.document, default_specification=DRAFT202012)
        registry: Registry[Any] = Registry().with_resource(DOCUMENT_URI, resource)
        return registry

    def violations(
        self, method: str, path: str, status: int, headers: dict[str, str], body: str
    ) -> list[str]:
        """What is wrong with one response (empty when it conforms); undocumented routes are not ours
        (API Gateway answers them), so they are skipped."""
        template = next((template for regex, template in self.routes if regex.match(path)), None)
        operation = self.document["paths"].get(template or "", {}).get(method.lower())
        if operation is None:
            return []
        where = f"{method} {template} → {status}"
        response = operation["responses"].get(str(status))
        if response is None:
            return [f"{where}: status not documented"]
        problems = [
            f"{where}: required header {name} missing"
            for name, spec in (response.get("headers") or {}).items()
            if spec.get("required") and name.lower() not in headers
        ]
        content = (response.get("content") or {}).get("application/json")
        if content is None:
            return problems + ([f"{where}: body not documented"] if body else [])
        pointer = _pointer("paths", template or "", method.lower(), "responses", str(status), "content")
        schema = {"$ref": f"{DOCUMENT_URI}#{pointer}/application~1json/schema"}
        validator = Draft202012Validator(schema, registry=self._registry())
        for error in validator.iter_errors(json.loads(body) if body else None):
            location = "/".join(str(part) for part in error.absolute_path) or "(body)"
            problems.append(f"{where}: {location}: {error.message[:300]}")
        return problems
