"""Create DynamoDB tables from template.yaml's own resource definitions, so local and test schemas
cannot drift from what CloudFormation deploys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

from local.moto_isolation import isolate_requests

TEMPLATE = Path(__file__).resolve().parent.parent / "template.yaml"


class _CfnLoader(yaml.SafeLoader):  # type: ignore[misc]
    """A YAML loader that understands CloudFormation's short-form intrinsic tags (`!Ref`, `!Sub`, ...)."""


def _intrinsic(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        return {"Fn::GetAtt": value.split(".", 1)}
    return {f"Fn::{tag_suffix}": value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        document = yaml.load(handle, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    if not isinstance(document, dict):
        raise ValueError(f"{path} is not a CloudFormation template")
    return document


def table_definitions(path: Path = TEMPLATE) -> dict[str, dict[str, Any]]:
    """Logical id → Properties of every AWS::DynamoDB::Table in the template."""
    resources = load_template(path).get("Resources", {})
    return {
        logical_id: resource.get("Properties", {})
        for logical_id, resource in resources.items()
        if resource.get("Type") == "AWS::DynamoDB::Table"
    }


def create_table(client: Any, table_name: str, properties: dict[str, Any]) -> None:
    """Create one table as CloudFormation would (keys, indexes, billing, SSE, TTL, PITR); idempotent."""
    if table_name in client.list_tables().get("TableNames", []):
        return
    params: dict[str, Any] = {
        "TableName": table_name,
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "KeySchema": properties["KeySchema"],
        "BillingMode": properties.get("BillingMode", "PROVISIONED"),
    }
    if properties.get("GlobalSecondaryIndexes"):
        params["GlobalSecondaryIndexes"] = properties["GlobalSecondaryIndexes"]
    if properties.get("LocalSecondaryIndexes"):
        params["LocalSecondaryIndexes"] = properties["LocalSecondaryIndexes"]
    if "ProvisionedThroughput" in properties:
        params["ProvisionedThroughput"] = properties["ProvisionedThroughput"]
    sse = properties.get("SSESpecification")
    if sse:  # CloudFormation says SSEEnabled where the API says Enabled
        params["SSESpecification"] = {"Enabled": bool(sse.get("SSEEnabled", False))}
    client.create_table(**params)
    client.get_waiter("table_exists").wait(
        TableName=table_name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 50}
    )
    ttl = properties.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        client.update_time_to_live(
            TableName=table_name,
            TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
        )
    pitr = properties.get("PointInTimeRecoverySpecification")
    if pitr and pitr.get("PointInTimeRecoveryEnabled"):
        client.update_continuous_backups(
            TableName=table_name,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        )


def create_checks_table(client: Any, table_name: str, path: Path = TEMPLATE) -> None:
    """The service's one table (`ChecksTable` in template.yaml), on a moto that isolates each request as
    DynamoDB does (`moto_isolation.py`)."""
    isolate_requests()
    create_table(client, table_name, table_definitions(path)["ChecksTable"])
