"""template.yaml's watch: a Scheduler schedule whose interval fits SQS's delays, a planner that may do
only what planning needs, and the index it reads (cfn-lint cannot know these)."""

from __future__ import annotations

from typing import Any

from local.tables import load_template
from smtp_preflight.watch.schedule import MAX_DELAY_SECONDS

TEMPLATE: dict[str, Any] = load_template()
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]


def props(logical_id: str) -> dict[str, Any]:
    properties: dict[str, Any] = RESOURCES[logical_id]["Properties"]
    return properties


def test_the_schedule_starts_the_planner_at_a_rate_in_minutes_that_a_window_can_spread() -> None:
    schedule = props("WatchPlannerSchedule")
    parameter = TEMPLATE["Parameters"]["WatchPlannerIntervalMinutes"]

    assert RESOURCES["WatchPlannerSchedule"]["Type"] == "AWS::Scheduler::Schedule"
    assert schedule["ScheduleExpression"] == {"Fn::Sub": "rate(${WatchPlannerIntervalMinutes} minutes)"}
    assert schedule["Target"]["Arn"] == {"Fn::GetAtt": ["WatchPlannerFunction", "Arn"]}
    assert parameter["Default"] == 10
    assert 1 not in parameter["AllowedValues"]  # "rate(1 minutes)" is not a valid expression
    assert max(parameter["AllowedValues"]) * 60 <= MAX_DELAY_SECONDS
    seconds = TEMPLATE["Mappings"]["PlannerInterval"]
    assert {int(minutes): row["Seconds"] for minutes, row in seconds.items()} == {
        minutes: minutes * 60 for minutes in parameter["AllowedValues"]
    }


def test_the_schedules_role_may_invoke_the_planner_and_nothing_else() -> None:
    role = props("WatchPlannerScheduleRole")
    [trust] = role["AssumeRolePolicyDocument"]["Statement"]
    [policy] = role["Policies"]
    [grant] = policy["PolicyDocument"]["Statement"]

    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert grant["Action"] == "lambda:InvokeFunction"
    assert grant["Resource"] == {"Fn::GetAtt": ["WatchPlannerFunction", "Arn"]}


def test_the_planner_may_read_its_index_move_due_times_and_send_to_the_workers_queue_only() -> None:
    [policy] = props("WatchPlannerFunction")["Policies"]
    grants = {statement["Sid"]: statement for statement in policy["Statement"]}

    index = grants["DueWatchesFromTheirIndexOnly"]
    assert index["Action"] == ["dynamodb:Query"]
    assert index["Resource"] == {"Fn::Sub": "${ChecksTable.Arn}/index/byDueTime"}
    moves = grants["MoveAPlannedWatchToItsNextMomentAndMarkTheRun"]
    assert sorted(moves["Action"]) == ["dynamodb:GetItem", "dynamodb:UpdateItem"]
    attributes = moves["Condition"]["ForAllValues:StringEquals"]["dynamodb:Attributes"]
    assert "settings" not in attributes
    assert "lastCheckId" not in attributes
    queue = grants["RechecksToTheWorkersQueue"]
    assert queue["Action"] == ["sqs:SendMessage"]
    assert queue["Resource"] == {"Fn::GetAtt": ["SettingsEventsQueue", "Arn"]}
    assert len(grants) == 3


def test_the_due_time_index_projects_ids_and_version_only() -> None:
    [index] = [i for i in props("ChecksTable")["GlobalSecondaryIndexes"] if i["IndexName"] == "byDueTime"]

    assert index["Projection"] == {
        "ProjectionType": "INCLUDE",
        "NonKeyAttributes": ["tenantId", "settingsId", "version"],
    }


def test_the_worker_and_the_planner_share_the_period() -> None:
    for function in ("SettingsChangedFunction", "WatchPlannerFunction"):
        variables = props(function)["Environment"]["Variables"]
        assert variables["RECHECK_PERIOD_SECONDS"] == {"Ref": "RecheckPeriodSeconds"}
