"""`make build`'s last step: prove the artifacts are what Lambda (python3.13, arm64) will load.

The layer must hold the `smtp_preflight` package and, for every dependency with compiled code, a wheel
built for CPython 3.13 on aarch64 (`pydantic_core`, `wrapt`); each function must hold its handler module.
A wrong-platform wheel imports fine on this machine and fails only in Lambda, so it is caught here.
"""

from __future__ import annotations

import sys
from pathlib import Path

from local.tables import TEMPLATE, load_template

BUILD_DIR = TEMPLATE.parent / ".aws-sam" / "build"
LAMBDA_TAG = ("cp313", "aarch64")


def wheel_tags(dist_info: Path) -> tuple[bool, list[str]]:
    """(pure, tags) from a .dist-info/WHEEL file."""
    pure, tags = True, []
    for line in (dist_info / "WHEEL").read_text(encoding="utf-8").splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "Root-Is-Purelib":
            pure = value.strip().lower() == "true"
        elif key.strip() == "Tag":
            tags.append(value.strip())
    return pure, tags


def problems(build_dir: Path = BUILD_DIR, template: Path = TEMPLATE) -> list[str]:
    """Everything wrong with the built artifacts; empty when they are fit for Lambda."""
    found: list[str] = []
    site = build_dir / "SmtpPreflightLayer" / "python"
    if not (site / "smtp_preflight" / "__init__.py").is_file():
        found.append(f"{site}: the smtp_preflight package is missing")
    compiled = 0
    for dist_info in sorted(site.glob("*.dist-info")):
        pure, tags = wheel_tags(dist_info)
        if pure:
            continue
        compiled += 1
        if not any(all(part in tag for part in LAMBDA_TAG) for tag in tags):
            built_for = ", ".join(tags) or "an unknown platform"
            found.append(f"{dist_info.name}: built for {built_for}, not cp313/aarch64")
    for module in sorted(site.rglob("*.so")):
        if "cpython-313-aarch64" not in module.name and "abi3" not in module.name:
            found.append(f"{module.relative_to(site)}: a native module for another platform")
    if compiled == 0:
        found.append(f"{site}: no compiled dependency found (pydantic_core should be one)")
    for logical_id, resource in load_template(template)["Resources"].items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        module = resource["Properties"]["Handler"].rpartition(".")[0]
        handler = build_dir / logical_id / (module.replace(".", "/") + ".py")
        if not handler.is_file():
            found.append(f"{logical_id}: {handler} is missing")
    return found


def main() -> int:
    found = problems()
    for problem in found:
        print(f"build check: {problem}", file=sys.stderr)
    if not found:
        print(f"build check: {BUILD_DIR} holds cp313/aarch64 wheels, smtp_preflight and every handler")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
