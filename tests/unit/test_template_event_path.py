"""template.yaml's event path keeps the properties docs/events.md promises (cfn-lint cannot know them)."""

from __future__ import annotations

from typing import Any

from local.tables import load_template

RESOURCES: dict[str, Any] = load_template()["Resources"]


def props(logical_id: str) -> dict[str, Any]:
    properties: dict[str, Any] = RESOURCES[logical_id]["Properties"]
    return properties


def test_the_visibility_timeout_is_at_least_six_times_the_worker_timeout() -> None:
    assert (
        props("SettingsEventsQueue")["VisibilityTimeout"] >= 6 * props("SettingsChangedFunction")["Timeout"]
    )


def test_both_queues_are_encrypted_and_failures_are_redriven_to_the_dlq() -> None:
    queue, dlq = props("SettingsEventsQueue"), props("SettingsEventsDeadLetterQueue")
    assert queue["SqsManagedSseEnabled"] is True
    assert dlq["SqsManagedSseEnabled"] is True
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["SettingsEventsDeadLetterQueue", "Arn"]},
        "maxReceiveCount": {"Ref": "MaxReceiveCount"},
    }
    assert dlq["MessageRetentionPeriod"] == 14 * 86400


def test_the_worker_reports_batch_item_failures() -> None:
    [event] = props("SettingsChangedFunction")["Events"].values()
    assert event["Type"] == "SQS"
    assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_the_rule_matches_only_the_saas_settings_events() -> None:
    pattern = props("SettingsChangedRule")["EventPattern"]
    assert pattern == {
        "source": [{"Ref": "SettingsEventSource"}],
        "detail-type": ["SmtpSettingsChanged", "SmtpSettingsDeleted"],
    }


def test_settings_events_reach_the_queue_with_their_tenant_as_message_group() -> None:
    """SQS fair queues schedule a standard queue by MessageGroupId: EventBridge sets it per event from the
    detail's tenant (a dynamic path parameter; a constant would put every tenant in one group)."""
    [target] = props("SettingsChangedRule")["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": ["SettingsEventsQueue", "Arn"]}
    assert target["SqsParameters"] == {"MessageGroupId": "$.detail.tenantId"}
    assert "FifoQueue" not in props("SettingsEventsQueue")  # a standard queue: fair, not ordered


def test_the_worker_may_do_only_what_it_needs() -> None:
    [policy] = props("SettingsChangedFunction")["Policies"]
    grants = {statement["Sid"]: statement for statement in policy["Statement"]}
    secrets = grants["OnlySecretsUnderThePrefix"]
    assert secrets["Action"] == ["secretsmanager:GetSecretValue"]
    assert secrets["Resource"]["Fn::Sub"].endswith(":secret:${SecretsPrefix}*")
    events = grants["CompletionEventsOnTheSaasBus"]
    assert events["Action"] == ["events:PutEvents"]
    assert events["Resource"]["Fn::Sub"].endswith(":event-bus/${EventBusName}")
    table = grants["ReportsAndVersionLedger"]
    assert sorted(table["Action"]) == [  # DeleteItem: SmtpSettingsDeleted ends the record's watch
        "dynamodb:BatchGetItem",  # the abuse limits' items, read together
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
    ]
    hmac_key = grants["DeploymentHmacKey"]  # the abuse limits' mailbox keys, shared with the API
    assert hmac_key["Action"] == ["secretsmanager:GetSecretValue"]
    assert hmac_key["Resource"] == {"Ref": "HmacKeySecret"}
    sealed = grants["OpenSealedSecretsOfAsynchronousChecks"]
    assert sealed["Action"] == ["kms:Decrypt"]
    assert sealed["Resource"] == {"Fn::GetAtt": ["CheckSecretsKey", "Arn"]}
    assert sealed["Condition"] == {"StringEquals": {"kms:EncryptionContext:purpose": "smtp-check"}}
    waiting = grants["RateLimitedRecordsWaitOnTheirQueue"]  # a delayed copy of a record, on its own queue
    assert sorted(waiting["Action"]) == ["sqs:GetQueueUrl", "sqs:SendMessage"]
    assert waiting["Resource"] == {"Fn::GetAtt": ["SettingsEventsQueue", "Arn"]}
    assert len(grants) == 6
    assert all(statement["Effect"] == "Allow" for statement in grants.values())


def test_the_api_may_only_seal_secrets_and_queue_checks_for_the_worker() -> None:
    [policy] = props("CheckApiFunction")["Policies"]
    grants = {statement["Sid"]: statement for statement in policy["Statement"]}
    queue = grants["AsynchronousChecksToTheWorkersQueue"]
    assert queue["Action"] == ["sqs:SendMessage"]
    assert queue["Resource"] == {"Fn::GetAtt": ["SettingsEventsQueue", "Arn"]}
    seal = grants["SealSecretsForOneCheckOnly"]
    assert seal["Action"] == ["kms:Encrypt"]  # no Decrypt: the API never opens a sealed secret
    assert seal["Condition"]["ForAllValues:StringEquals"] == {
        "kms:EncryptionContextKeys": ["purpose", "tenantId", "checkId"]
    }
    environment = props("CheckApiFunction")["Environment"]["Variables"]
    assert environment["CHECK_QUEUE_URL"] == {"Ref": "SettingsEventsQueue"}
    assert (
        environment["CHECK_KEY_ID"]
        == props("SettingsChangedFunction")["Environment"]["Variables"]["CHECK_KEY_ID"]
    )


def test_only_the_settings_rule_may_send_to_the_queues() -> None:
    [statement] = props("SettingsEventsQueuePolicy")["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    assert statement["Condition"] == {
        "ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["SettingsChangedRule", "Arn"]}}
    }
