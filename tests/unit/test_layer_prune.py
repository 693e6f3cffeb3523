"""The layer's pruning keeps every AWS service the code calls, and every package's metadata."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def _prune_module() -> ModuleType:
    path = ROOT / "layers" / "smtp_preflight" / "prune.py"
    spec = importlib.util.spec_from_file_location("layer_prune", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_service_the_code_calls_is_kept() -> None:
    sources = [*ROOT.glob("layers/smtp_preflight/smtp_preflight/**/*.py"), *ROOT.glob("functions/**/*.py")]
    text = "\n".join(path.read_text() for path in sources)
    called = set(re.findall(r"""(?:aws_client|boto3\.client)\(\s*["']([a-z0-9-]+)["']""", text))
    if "SecretsProvider" in text:
        called.add("secretsmanager")

    assert called
    assert called <= _prune_module().SERVICES


def test_pruning_drops_other_services_tests_and_stubs_but_keeps_bytecode_and_metadata(tmp_path: Path) -> None:
    files = [
        "botocore/data/endpoints.json",
        "botocore/data/dynamodb/2012-08-10/service-2.json.gz",
        "botocore/data/s3/2006-03-01/service-2.json.gz",
        "botocore/__pycache__/client.cpython-313.pyc",
        "botocore/client.py",
        "pydantic_core/core_schema.pyi",
        "dns/tests/test_x.py",
        "botocore-1.44.8.dist-info/RECORD",
    ]
    for name in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")

    _prune_module().prune(tmp_path)

    left = {str(path.relative_to(tmp_path)) for path in tmp_path.rglob("*") if path.is_file()}
    assert left == {
        "botocore/data/endpoints.json",
        "botocore/data/dynamodb/2012-08-10/service-2.json.gz",
        "botocore/__pycache__/client.cpython-313.pyc",
        "botocore/client.py",
        "botocore-1.44.8.dist-info/RECORD",
    }
