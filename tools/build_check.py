"""`make build`'s last step: prove the artifacts are what Lambda (python3.13, arm64) will load.

Every layer must hold, for every dependency with compiled code, a wheel that CPython 3.13 on aarch64
loads (`pydantic_core` in the shared layer, `cryptography` in the legacy envelopes layer, `wrapt` in the
detailed tracing layer); the shared layer must hold the `smtp_preflight` package and neither
`cryptography` nor the X-Ray SDK (they come from their own layers, attached by template parameters:
docs/performance.md); each function must hold its handler module. A
wrong-platform wheel imports fine on this machine and fails only in Lambda, so it is caught here. A
wheel fits when one of its tags (read with `packaging.tags`, as pip reads them) is
- `cp313-cp313-<platform>`: built for exactly this interpreter;
- `cpXY-abi3-<platform>` with 3.2 <= X.Y <= 3.13: the stable ABI, which every later CPython loads;
- `py3-none-<platform>`: no Python ABI at all;
where `<platform>` is a glibc aarch64 platform the Lambda image's glibc (2.34) satisfies: `manylinux2014`,
`manylinux_2_X` with X <= 34, or `linux`. musllinux, x86_64 and other ABIs are refused.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from packaging.tags import Tag, parse_tag

from local.tables import TEMPLATE, load_template

BUILD_DIR = TEMPLATE.parent / ".aws-sam" / "build"
LAMBDA_PYTHON = (3, 13)
LAMBDA_GLIBC = (2, 34)  # Amazon Linux 2023, the python3.13 runtime's image
_CPYTHON = re.compile(r"cp(\d)(\d+)")
_MANYLINUX = re.compile(r"manylinux_(\d+)_(\d+)_aarch64")
_LEGACY_MANYLINUX = {"manylinux2014_aarch64": (2, 17)}


def _platform_fits(platform: str) -> bool:
    if platform == "linux_aarch64":
        return True
    glibc = _LEGACY_MANYLINUX.get(platform)
    found = _MANYLINUX.fullmatch(platform)
    if found:
        glibc = (int(found.group(1)), int(found.group(2)))
    return glibc is not None and glibc <= LAMBDA_GLIBC


def _python_fits(tag: Tag) -> bool:
    interpreter = _CPYTHON.fullmatch(tag.interpreter)
    version = (int(interpreter.group(1)), int(interpreter.group(2))) if interpreter else None
    if tag.abi == "abi3":
        return version is not None and (3, 2) <= version <= LAMBDA_PYTHON
    if tag.abi == "none":
        return tag.interpreter in {"py3", "py3" + str(LAMBDA_PYTHON[1])} or version == LAMBDA_PYTHON
    return version == LAMBDA_PYTHON and tag.abi == tag.interpreter


def loads_in_lambda(wheel_tag: str) -> bool:
    """Whether a wheel's `Tag:` line (possibly compressed, `a.b-c-d.e`) has a tag Lambda's CPython loads."""
    try:
        tags = parse_tag(wheel_tag)
    except ValueError:
        return False
    return any(_python_fits(tag) and _platform_fits(tag.platform) for tag in tags)


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


# what each layer must hold (a top-level package), and what the shared one must not: each function gets
# those only from their own layers, when its parameter asks for them (docs/performance.md)
LAYER_PACKAGES = {
    "SmtpPreflightLayer": "smtp_preflight",
    "LegacyEnvelopesLayer": "cryptography",
    "DetailedTracingLayer": "aws_xray_sdk",
}
NOT_SHARED = ("cryptography", "aws_xray_sdk")


def layer_problems(site: Path) -> list[str]:
    """A built layer's `python/` folder: every compiled dependency fits Lambda's CPython 3.13 on aarch64."""
    found: list[str] = []
    compiled = 0
    for dist_info in sorted(site.glob("*.dist-info")):
        pure, tags = wheel_tags(dist_info)
        if pure:
            continue
        compiled += 1
        if not any(loads_in_lambda(tag) for tag in tags):
            built_for = ", ".join(tags) or "an unknown platform"
            found.append(f"{dist_info.name}: built for {built_for}, not cp313/aarch64")
    for module in sorted(site.rglob("*.so")):
        if "cpython-313-aarch64" not in module.name and "abi3" not in module.name:
            found.append(f"{module.relative_to(site)}: a native module for another platform")
    if compiled == 0:
        found.append(f"{site}: no compiled dependency found")
    return found


def problems(build_dir: Path = BUILD_DIR, template: Path = TEMPLATE) -> list[str]:
    """Everything wrong with the built artifacts; empty when they are fit for Lambda."""
    found: list[str] = []
    resources = load_template(template)["Resources"]
    for logical_id, resource in resources.items():
        if resource.get("Type") != "AWS::Serverless::LayerVersion":
            continue
        site = build_dir / logical_id / "python"
        package = LAYER_PACKAGES.get(logical_id)
        if package is not None and not (site / package / "__init__.py").is_file():
            found.append(f"{site}: the {package} package is missing")
        found += layer_problems(site)
    for package in NOT_SHARED:
        if (build_dir / "SmtpPreflightLayer" / "python" / package).exists():
            found.append(f"SmtpPreflightLayer: holds {package}, which only its own layer may")
    for logical_id, resource in resources.items():
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
        print(f"build check: {BUILD_DIR} holds every layer's wheels for cp313/aarch64 and every handler")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
