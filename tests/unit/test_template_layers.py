"""template.yaml's layers: the shared layer for every function, `cryptography` only in the legacy envelopes
layer, attached to the event worker alone and only while `OpenLegacyEnvelopes` is on."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from local.tables import TEMPLATE, load_template

TEMPLATE_DATA: dict[str, Any] = load_template()
RESOURCES: dict[str, Any] = TEMPLATE_DATA["Resources"]
LAYERS = TEMPLATE.parent / "layers"


def pinned(requirements: Path) -> set[str]:
    names = (re.match(r"[A-Za-z0-9_.-]+", line.strip()) for line in requirements.read_text().splitlines())
    return {name.group(0).lower() for name in names if name}


def test_every_function_gets_the_shared_layer_and_only_the_worker_the_legacy_one() -> None:
    assert TEMPLATE_DATA["Globals"]["Function"]["Layers"] == [{"Ref": "SmtpPreflightLayer"}]
    extra = {
        logical_id: resource["Properties"].get("Layers")
        for logical_id, resource in RESOURCES.items()
        if resource["Type"] == "AWS::Serverless::Function"
    }
    legacy = {"Fn::If": ["OpenLegacyEnvelopesOn", {"Ref": "LegacyEnvelopesLayer"}, {"Ref": "AWS::NoValue"}]}

    assert extra.pop("SettingsChangedFunction") == [legacy]
    assert set(extra.values()) == {None}


def test_the_legacy_layer_exists_only_while_the_parameter_is_on_and_is_on_by_default() -> None:
    parameter = TEMPLATE_DATA["Parameters"]["OpenLegacyEnvelopes"]
    assert parameter["Default"] == "true"
    assert parameter["AllowedValues"] == ["true", "false"]
    assert TEMPLATE_DATA["Conditions"]["OpenLegacyEnvelopesOn"] == {
        "Fn::Equals": [{"Ref": "OpenLegacyEnvelopes"}, "true"]
    }
    layer = RESOURCES["LegacyEnvelopesLayer"]
    assert layer["Condition"] == "OpenLegacyEnvelopesOn"
    assert layer["Properties"]["ContentUri"] == "layers/legacy_envelopes/"
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
    assert layer["Metadata"]["BuildMethod"] == "makefile"


def test_cryptography_is_only_in_the_legacy_layer() -> None:
    shared = pinned(LAYERS / "smtp_preflight" / "requirements.txt")
    legacy = pinned(LAYERS / "legacy_envelopes" / "requirements.txt")

    assert "cryptography" not in shared
    assert legacy == {"cryptography"}
    assert "build-LegacyEnvelopesLayer:" in (LAYERS / "legacy_envelopes" / "Makefile").read_text()
