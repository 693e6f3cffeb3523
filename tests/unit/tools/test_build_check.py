"""`make build`'s artifact check: what Lambda (python3.13, arm64) would load, proven without Lambda."""

from __future__ import annotations

from pathlib import Path

import pytest

from local.tables import TEMPLATE, load_template
from tools.build_check import problems

ARM64_WHEEL = "Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: cp313-cp313-manylinux2014_aarch64\n"


ABI3_WHEEL = "Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: cp311-abi3-manylinux_2_34_aarch64\n"


def _layer(site: Path, package: str, dist: str, wheel: str, native: str) -> None:
    (site / package).mkdir(parents=True)
    (site / package / "__init__.py").write_text("")
    (site / f"{dist}-2.0.dist-info").mkdir()
    (site / f"{dist}-2.0.dist-info" / "WHEEL").write_text(wheel)
    (site / dist).mkdir(exist_ok=True)
    (site / dist / f"_{dist}.{native}.so").write_bytes(b"")


def _built(tmp_path: Path, wheel: str = ARM64_WHEEL, native: str = "cpython-313-aarch64-linux-gnu") -> Path:
    site = tmp_path / "SmtpPreflightLayer" / "python"
    _layer(site, "smtp_preflight", "pydantic_core", wheel, native)
    (site / "idna-3.0.dist-info").mkdir()
    (site / "idna-3.0.dist-info" / "WHEEL").write_text("Root-Is-Purelib: true\nTag: py3-none-any\n")
    _layer(tmp_path / "LegacyEnvelopesLayer" / "python", "cryptography", "cryptography", ABI3_WHEEL, "abi3")
    _layer(tmp_path / "DetailedTracingLayer" / "python", "aws_xray_sdk", "wrapt", ARM64_WHEEL, native)
    for logical_id, resource in load_template()["Resources"].items():
        if resource["Type"] == "AWS::Serverless::Function":
            module = resource["Properties"]["Handler"].rpartition(".")[0]
            handler = tmp_path / logical_id / (module.replace(".", "/") + ".py")
            handler.parent.mkdir(parents=True)
            handler.write_text("")
    return tmp_path


def test_a_build_for_lambda_arm64_passes(tmp_path: Path) -> None:
    assert problems(_built(tmp_path), TEMPLATE) == []


def test_a_wheel_for_this_machine_is_caught(tmp_path: Path) -> None:
    build = _built(
        tmp_path,
        wheel="Root-Is-Purelib: false\nTag: cp311-cp311-manylinux_2_17_x86_64\n",
        native="cpython-311-x86_64-linux-gnu",
    )

    found = problems(build, TEMPLATE)

    assert any("pydantic_core-2.0.dist-info: built for cp311-cp311-manylinux_2_17_x86_64" in p for p in found)
    assert any("a native module for another platform" in p for p in found)


@pytest.mark.parametrize("package", ["cryptography", "aws_xray_sdk"])
def test_a_package_of_a_conditional_layer_in_the_shared_layer_is_caught(tmp_path: Path, package: str) -> None:
    build = _built(tmp_path)
    (build / "SmtpPreflightLayer" / "python" / package).mkdir()

    assert any(f"holds {package}" in problem for problem in problems(build, TEMPLATE))


def test_a_wrong_platform_wheel_in_the_legacy_layer_is_caught(tmp_path: Path) -> None:
    build = _built(tmp_path)
    wheel = build / "LegacyEnvelopesLayer" / "python" / "cryptography-2.0.dist-info" / "WHEEL"
    wheel.write_text("Root-Is-Purelib: false\nTag: cp311-abi3-manylinux_2_28_x86_64\n")

    assert any("cryptography-2.0.dist-info: built for" in problem for problem in problems(build, TEMPLATE))


@pytest.mark.parametrize(
    ("missing", "complaint"),
    [
        ("SmtpPreflightLayer/python/smtp_preflight/__init__.py", "smtp_preflight package is missing"),
        ("CheckApiFunction/check_api/app.py", "CheckApiFunction:"),
        ("LegacyEnvelopesLayer/python/cryptography/__init__.py", "cryptography package is missing"),
        ("DetailedTracingLayer/python/aws_xray_sdk/__init__.py", "aws_xray_sdk package is missing"),
    ],
)
def test_missing_code_is_caught(tmp_path: Path, missing: str, complaint: str) -> None:
    build = _built(tmp_path)
    (build / missing).unlink()

    assert any(complaint in problem for problem in problems(build, TEMPLATE))


def test_every_function_and_layer_builds_without_a_local_python_3_13() -> None:
    """`sam build`'s python3.13 build method needs that interpreter on PATH; the makefile method does not."""
    resources = load_template()["Resources"]
    built = {
        logical_id: (resource.get("Metadata") or {}).get("BuildMethod")
        for logical_id, resource in resources.items()
        if resource["Type"] in {"AWS::Serverless::Function", "AWS::Serverless::LayerVersion"}
    }

    assert built
    assert all(method == "makefile" for method in built.values()), built


@pytest.mark.parametrize(
    "tag",
    [
        "cp313-cp313-manylinux2014_aarch64",
        "cp313-cp313-manylinux_2_17_aarch64.manylinux2014_aarch64",
        "cp311-abi3-manylinux2014_aarch64",  # cryptography's stable-ABI wheel
        "cp37-abi3-manylinux_2_28_aarch64",
        "cp313-abi3-manylinux_2_34_aarch64",
        "py3-none-manylinux_2_17_aarch64",
    ],
)
def test_wheels_lambda_loads_pass(tmp_path: Path, tag: str) -> None:
    build = _built(tmp_path, wheel=f"Root-Is-Purelib: false\nTag: {tag}\n", native="abi3")

    assert problems(build, TEMPLATE) == []


@pytest.mark.parametrize(
    "tag",
    [
        "cp314-abi3-manylinux2014_aarch64",  # the stable ABI of a later Python than Lambda's
        "cp311-cp311-manylinux2014_aarch64",  # another interpreter's own ABI
        "cp311-abi3-manylinux2014_x86_64",  # the wrong platform
        "cp311-abi3-musllinux_1_2_aarch64",  # musl, not Lambda's glibc
        "cp313-cp313-manylinux_2_39_aarch64",  # a newer glibc than Amazon Linux 2023's
        "cp313-cp313t-manylinux2014_aarch64",  # the free-threaded ABI
        "cp313-abi3-win_arm64",
        "not a tag",
    ],
)
def test_wheels_lambda_cannot_load_are_caught(tmp_path: Path, tag: str) -> None:
    build = _built(tmp_path, wheel=f"Root-Is-Purelib: false\nTag: {tag}\n", native="abi3")

    found = problems(build, TEMPLATE)

    assert any(f"built for {tag}" in problem for problem in found)
