"""The floor for the event worker's cold start: the same third-party pieces and the same kind of work,
none of our code. A Powertools Logger and `AsyncBatchProcessor` over SQS, boto3 clients for DynamoDB,
Secrets Manager and EventBridge, a pydantic model for the event's detail, and per record: read the
secret, an aiosmtplib STARTTLS + login, one `put_item`, one `put_events`."""

import asyncio
import json
import os
import ssl
import time
from typing import Any

import aiosmtplib
import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import (
    AsyncBatchProcessor,
    EventType,
    async_process_partial_response,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

logger = Logger(service="floor")
dynamodb = boto3.client("dynamodb")
secrets = boto3.client("secretsmanager")
events = boto3.client("events")
processor = AsyncBatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
TABLE = os.environ["TABLE_NAME"]


class Detail(BaseModel):
    tenant_id: str = Field(alias="tenantId")
    settings_id: str = Field(alias="settingsId")
    host: str
    port: int
    username: str
    secret_id: str = Field(alias="credentialsSecretId")


async def record_handler(record) -> str:  # type: ignore[no-untyped-def]
    detail = Detail.model_validate(json.loads(record.body)["detail"])
    secret = await asyncio.to_thread(secrets.get_secret_value, SecretId=detail.secret_id)
    password = json.loads(secret["SecretString"])["password"]
    context = ssl.create_default_context()
    for path in filter(None, os.environ.get("SMTP_PREFLIGHT_CA_FILE", "").split(":")):
        context.load_verify_locations(cafile=path)
    client = aiosmtplib.SMTP(
        hostname=detail.host,
        port=detail.port,
        start_tls=True,
        tls_context=context,
        local_hostname="[127.0.0.1]",
    )
    await client.connect()
    reply = await client.login(detail.username, password)
    await client.quit()
    check_id = f"floor-{time.time_ns()}"
    item = {"pk": {"S": f"TENANT#{detail.tenant_id}#CHECK#{check_id}"}, "sk": {"S": "REPORT"}}
    await asyncio.to_thread(dynamodb.put_item, TableName=TABLE, Item=item)
    entry = {"Source": "floor", "DetailType": "Done", "Detail": json.dumps({"reply": reply.code}),
             "EventBusName": os.environ["EVENT_BUS_NAME"]}  # fmt: skip
    await asyncio.to_thread(events.put_events, Entries=[entry])
    return check_id


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(
        async_process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    )
