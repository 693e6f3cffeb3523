"""The event path of template.yaml on one machine: the bus, the settings rule, the worker's queue and its
dead-letter queue, created from the template's own resource definitions (like `tables.py` does for the
table), so that local runs and tests use the same pattern, redrive policy and queue settings as the cloud.

Template parameters come from the environment where `make run` documents a variable for them, else from
their defaults; `LOCAL_VISIBILITY_TIMEOUT` shortens the queue's visibility timeout for quick local retries.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local.tables import TEMPLATE, load_template

RULE, QUEUE, DEAD_LETTER_QUEUE = "SettingsChangedRule", "SettingsEventsQueue", "SettingsEventsDeadLetterQueue"
WORKER = "SettingsChangedFunction"

# template parameter -> the environment variable that overrides it locally
PARAMETER_VARIABLES = {
    "EventBusName": "EVENT_BUS_NAME",
    "SettingsEventSource": "SETTINGS_EVENT_SOURCE",
    "SecretsPrefix": "SECRETS_PREFIX",
    "MaxReceiveCount": "MAX_RECEIVE_COUNT",
    "WorkerBatchSize": "WORKER_BATCH_SIZE",
    "WorkerCheckConcurrency": "CHECK_CONCURRENCY",
    "WorkerMaximumConcurrency": "WORKER_MAXIMUM_CONCURRENCY",
}
LOCAL_DEFAULTS = {"EventBusName": "smtp-preflight-local"}

# CloudFormation's AWS::SQS::Queue properties that are SQS queue attributes of the same name
QUEUE_ATTRIBUTES = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "SqsManagedSseEnabled",
)


@dataclass(frozen=True, slots=True)
class EventPath:
    bus_name: str
    source: str
    rule_name: str
    queue_url: str
    queue_arn: str
    dead_letter_queue_url: str
    max_receive_count: int
    visibility_timeout: int
    batch_size: int
    maximum_concurrency: int = 1  # invocations the event source runs at once (ScalingConfig)


def parameters(template: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Every template parameter's local value: its variable if set, else the local or template default."""
    env = os.environ if environ is None else environ
    values: dict[str, str] = {}
    for name, spec in (template.get("Parameters") or {}).items():
        variable = PARAMETER_VARIABLES.get(name)
        default = LOCAL_DEFAULTS.get(name, spec.get("Default"))
        value = env.get(variable, "") if variable else ""
        if value:
            values[name] = value
        elif default is not None:
            values[name] = str(default)
    return values


def resolve(value: Any, refs: Mapping[str, str], attributes: Mapping[tuple[str, str], str]) -> Any:
    """`Ref` and `Fn::GetAtt` replaced by local values (parameters, and attributes of created resources)."""
    if isinstance(value, list):
        return [resolve(item, refs, attributes) for item in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"}:
        return refs[value["Ref"]]
    if set(value) == {"Fn::GetAtt"}:
        logical_id, attribute = value["Fn::GetAtt"]
        return attributes[(logical_id, attribute)]
    return {key: resolve(item, refs, attributes) for key, item in value.items()}


def create_event_path(
    events: Any,
    sqs: Any,
    *,
    name_prefix: str = "smtp-preflight",
    environ: Mapping[str, str] | None = None,
    path: Path = TEMPLATE,
) -> EventPath:
    """The bus (unless `default`), the DLQ, the queue and the rule with its target; idempotent."""
    env = os.environ if environ is None else environ
    template = load_template(path)
    resources = template["Resources"]
    refs = parameters(template, env)
    attributes: dict[tuple[str, str], str] = {}
    urls: dict[str, str] = {}
    for logical_id in (DEAD_LETTER_QUEUE, QUEUE):  # the DLQ first: the queue's redrive policy names it
        props = resolve(resources[logical_id]["Properties"], refs, attributes)
        queue_attributes = {key: _attribute(props[key]) for key in QUEUE_ATTRIBUTES if key in props}
        if "RedrivePolicy" in props:
            queue_attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
        if logical_id == QUEUE and env.get("LOCAL_VISIBILITY_TIMEOUT"):
            queue_attributes["VisibilityTimeout"] = env["LOCAL_VISIBILITY_TIMEOUT"]
        name = f"{name_prefix}-{logical_id}"
        url = sqs.create_queue(QueueName=name, Attributes=queue_attributes)["QueueUrl"]
        urls[logical_id] = url
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        attributes[(logical_id, "Arn")] = arn
        attributes[(logical_id, "QueueName")] = name

    bus = refs["EventBusName"]
    if bus != "default" and bus not in {b["Name"] for b in events.list_event_buses().get("EventBuses", [])}:
        events.create_event_bus(Name=bus)
    rule = resolve(resources[RULE]["Properties"], refs, attributes)
    rule_name = f"{name_prefix}-{RULE}"
    events.put_rule(
        Name=rule_name,
        EventBusName=bus,
        EventPattern=json.dumps(rule["EventPattern"]),
        State=rule.get("State", "ENABLED"),
        Description=rule.get("Description", ""),
    )
    events.put_targets(
        Rule=rule_name,
        EventBusName=bus,
        Targets=[{"Id": target["Id"], "Arn": target["Arn"]} for target in rule["Targets"]],
    )
    queue = resolve(resources[QUEUE]["Properties"], refs, attributes)
    worker_events = resources[WORKER]["Properties"]["Events"]
    sqs_event = next(event["Properties"] for event in worker_events.values() if event["Type"] == "SQS")
    return EventPath(
        bus_name=bus,
        source=refs["SettingsEventSource"],
        rule_name=rule_name,
        queue_url=urls[QUEUE],
        queue_arn=attributes[(QUEUE, "Arn")],
        dead_letter_queue_url=urls[DEAD_LETTER_QUEUE],
        max_receive_count=int(queue["RedrivePolicy"]["maxReceiveCount"]),
        visibility_timeout=int(env.get("LOCAL_VISIBILITY_TIMEOUT") or queue["VisibilityTimeout"]),
        batch_size=int(resolve(sqs_event.get("BatchSize", 10), refs, attributes)),
        maximum_concurrency=int(
            resolve((sqs_event.get("ScalingConfig") or {}).get("MaximumConcurrency", 1), refs, attributes)
        ),
    )


def attach_listener(events: Any, sqs: Any, bus_name: str, name: str, pattern: Mapping[str, Any]) -> str:
    """A queue that receives the bus's events matching `pattern` (how anyone can listen for completions);
    its URL."""
    url: str = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name=name, EventBusName=bus_name, EventPattern=json.dumps(pattern), State="ENABLED")
    events.put_targets(Rule=name, EventBusName=bus_name, Targets=[{"Id": name, "Arn": arn}])
    return url


def _attribute(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
