"""template.yaml runs like a service people depend on (docs/operations.md): every function has error and
throttle alarms, every queue a depth or age alarm, every alarm notifies the topic, every threshold is a
parameter, and every function but the pre-traffic hook deploys through its alias with a deployment
preference whose rollback alarms exist. cfn-lint cannot know any of this."""

from __future__ import annotations

from typing import Any

import pytest

from local.tables import load_template

TEMPLATE: dict[str, Any] = load_template()
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
HOOK = "PreTrafficHookFunction"


def of_type(kind: str) -> dict[str, dict[str, Any]]:
    return {name: resource for name, resource in RESOURCES.items() if resource["Type"] == kind}


FUNCTIONS = of_type("AWS::Serverless::Function")
QUEUES = of_type("AWS::SQS::Queue")
ALARMS = of_type("AWS::CloudWatch::Alarm")


def metrics_of(alarm: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(namespace, metric name, dimensions) of every metric an alarm reads, plain or in metric math."""
    props = alarm["Properties"]
    stats = [query["MetricStat"]["Metric"] for query in props.get("Metrics", []) if "MetricStat" in query]
    plain = [props] if "MetricName" in props else []
    return [
        (
            metric["Namespace"],
            metric["MetricName"],
            {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])},
        )
        for metric in plain + stats
    ]


def alarmed(namespace: str, metric: str, dimension: str, value: Any) -> set[str]:
    return {
        name
        for name, alarm in ALARMS.items()
        for space, metric_name, dimensions in metrics_of(alarm)
        if (space, metric_name) == (namespace, metric) and dimensions.get(dimension) == value
    }


def test_the_template_has_the_functions_this_test_is_about() -> None:
    assert {"CheckApiFunction", "SettingsChangedFunction", "WatchPlannerFunction", HOOK} <= set(FUNCTIONS)
    assert {"SettingsEventsQueue", "SettingsEventsDeadLetterQueue"} <= set(QUEUES)


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
@pytest.mark.parametrize("metric", ["Errors", "Throttles", "Duration"])
def test_every_function_has_error_throttle_and_duration_alarms(function: str, metric: str) -> None:
    assert alarmed("AWS/Lambda", metric, "FunctionName", {"Ref": function}), (function, metric)


@pytest.mark.parametrize("queue", sorted(QUEUES))
def test_every_queue_has_a_depth_or_age_alarm(queue: str) -> None:
    reference = {"Fn::GetAtt": [queue, "QueueName"]}
    depth = alarmed("AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", reference)
    age = alarmed("AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", reference)
    assert depth | age, queue


def test_the_service_signals_the_issue_names_are_alarmed() -> None:
    assert alarmed("AWS/ApiGateway", "5xx", "ApiId", {"Ref": "HttpApi"})
    assert alarmed("AWS/DynamoDB", "WriteThrottleEvents", "TableName", {"Ref": "ChecksTable"})
    assert alarmed("AWS/DynamoDB", "ReadThrottleEvents", "TableName", {"Ref": "ChecksTable"})
    assert alarmed("SmtpPreflight", "CredentialEchoes", "service", "smtp-preflight")
    assert alarmed("SmtpPreflight", "CheckingSideFailures", "service", "smtp-preflight")
    limits = {
        dimensions["limit"]
        for alarm in ALARMS.values()
        for space, name, dimensions in metrics_of(alarm)
        if (space, name) == ("SmtpPreflight", "LimitRefusals")
    }
    # the abuse limits; a re-check waiting for its budget (trigger=recheck) is its own metric, not counted
    assert limits == {"mailboxFailedLogins", "tenantHandshakeRate", "tenantConcurrentHandshakes"}


@pytest.mark.parametrize("alarm", sorted(ALARMS))
def test_every_alarm_notifies_the_topic_and_its_threshold_is_a_parameter(alarm: str) -> None:
    props = ALARMS[alarm]["Properties"]
    assert {"Ref": "AlarmTopic"} in props["AlarmActions"]
    assert props["Threshold"] == {"Ref": props["Threshold"]["Ref"]}
    assert props["Threshold"]["Ref"] in TEMPLATE["Parameters"]


def test_the_topic_can_mail_someone_but_need_not() -> None:
    assert RESOURCES["AlarmTopic"]["Type"] == "AWS::SNS::Topic"
    subscription = RESOURCES["AlarmEmailSubscription"]
    assert subscription["Condition"] == "AlarmEmailGiven"
    assert subscription["Properties"]["TopicArn"] == {"Ref": "AlarmTopic"}
    assert TEMPLATE["Parameters"]["AlarmEmail"]["Default"] == ""


@pytest.mark.parametrize("function", sorted(set(FUNCTIONS) - {HOOK}))
def test_every_function_but_the_hook_deploys_through_its_alias_with_a_preference(function: str) -> None:
    props = FUNCTIONS[function]["Properties"]
    alias = props.get("AutoPublishAlias", TEMPLATE["Globals"]["Function"].get("AutoPublishAlias"))
    preference = props["DeploymentPreference"]

    assert alias == "live"
    assert preference.get("Enabled", True) is not False
    assert preference["Type"] == {"Ref": "DeploymentType"}
    rollback = {reference["Ref"] for reference in preference["Alarms"]}
    assert rollback <= set(ALARMS)
    short = function.removesuffix("Function")
    assert {f"{short}ErrorsAlarm", f"{short}ThrottlesAlarm"} <= rollback


def test_the_api_waits_for_the_hook_and_the_hook_itself_deploys_at_once() -> None:
    hooks = FUNCTIONS["CheckApiFunction"]["Properties"]["DeploymentPreference"]["Hooks"]
    hook = FUNCTIONS[HOOK]["Properties"]

    assert hooks == {"PreTraffic": {"Ref": HOOK}}
    assert hook["DeploymentPreference"] == {"Enabled": False}
    # CodeDeploy's role for Lambda may invoke only functions named CodeDeployHook_*
    assert hook["FunctionName"]["Fn::Sub"].startswith("CodeDeployHook_")
    assert hook["Environment"]["Variables"]["PROBED_FUNCTION_VERSION"] == {"Ref": "CheckApiFunction.Version"}
    [policy] = hook["Policies"]
    grants = {statement["Sid"]: statement for statement in policy["Statement"]}
    assert grants["ProbeTheNewApiVersion"]["Resource"] == {"Fn::Sub": "${CheckApiFunction.Arn}:*"}


def test_the_schedule_starts_the_planners_live_alias() -> None:
    assert RESOURCES["WatchPlannerSchedule"]["Properties"]["Target"]["Arn"] == {
        "Ref": "WatchPlannerFunction.Alias"
    }
