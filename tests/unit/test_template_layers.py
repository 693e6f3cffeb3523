"""template.yaml's layers: the shared layer for every function; `cryptography` only in the legacy envelopes
layer, attached to the event worker alone and only while `OpenLegacyEnvelopes` is on; the X-Ray SDK only
in the detailed tracing layer, attached only while `DetailedTracing` is on."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from local.tables import TEMPLATE, load_template

TEMPLATE_DATA: dict[str, Any] = load_template()
RESOURCES: dict[str, Any] = TEMPLATE_DATA["Resources"]
LAYERS = TEMPLATE.parent / "layers"


def pinned(requirements: Path) -> set[str]:
    names = (re.match(r"[A-Za-z0-9_.-]+", line.strip()) for line in requirements.read_text().splitlines())
    return {name.group(0).lower() for name in names if name}


def when(condition: str, layer: str) -> dict[str, Any]:
    return {"Fn::If": [condition, {"Ref": layer}, {"Ref": "AWS::NoValue"}]}


def test_every_function_gets_the_shared_layer_and_only_the_worker_the_legacy_one() -> None:
    assert TEMPLATE_DATA["Globals"]["Function"]["Layers"] == [
        {"Ref": "SmtpPreflightLayer"},
        when("DetailedTracingOn", "DetailedTracingLayer"),
    ]
    extra = {
        logical_id: resource["Properties"].get("Layers")
        for logical_id, resource in RESOURCES.items()
        if resource["Type"] == "AWS::Serverless::Function"
    }
    assert extra.pop("SettingsChangedFunction") == [when("OpenLegacyEnvelopesOn", "LegacyEnvelopesLayer")]
    assert set(extra.values()) == {None}


@pytest.mark.parametrize(
    ("layer", "parameter", "default", "folder"),
    [
        ("LegacyEnvelopesLayer", "OpenLegacyEnvelopes", "true", "legacy_envelopes"),
        ("DetailedTracingLayer", "DetailedTracing", "false", "detailed_tracing"),
    ],
)
def test_a_conditional_layer_exists_only_while_its_parameter_is_on(
    layer: str, parameter: str, default: str, folder: str
) -> None:
    assert TEMPLATE_DATA["Parameters"][parameter]["Default"] == default
    assert TEMPLATE_DATA["Parameters"][parameter]["AllowedValues"] == ["true", "false"]
    condition = RESOURCES[layer]["Condition"]
    assert TEMPLATE_DATA["Conditions"][condition] == {"Fn::Equals": [{"Ref": parameter}, "true"]}
    properties = RESOURCES[layer]["Properties"]
    assert properties["ContentUri"] == f"layers/{folder}/"
    assert properties["CompatibleArchitectures"] == ["arm64"]
    assert RESOURCES[layer]["Metadata"]["BuildMethod"] == "makefile"
    assert f"build-{layer}:" in (LAYERS / folder / "Makefile").read_text()


def test_cryptography_and_the_xray_sdk_are_only_in_their_own_layers() -> None:
    shared_file = LAYERS / "smtp_preflight" / "requirements.txt"
    shared = pinned(shared_file)

    assert pinned(LAYERS / "legacy_envelopes" / "requirements.txt") == {"cryptography"}
    assert pinned(LAYERS / "detailed_tracing" / "requirements.txt") == {"aws-xray-sdk", "wrapt"}
    assert not shared & {"cryptography", "aws-xray-sdk", "wrapt"}
    assert "aws-lambda-powertools==" in shared_file.read_text()  # without the [tracer] extra
