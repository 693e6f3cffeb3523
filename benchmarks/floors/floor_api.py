"""The floor for the API's cold start: the same third-party pieces and the same kind of request, none
of our code. A Powertools Logger, `APIGatewayHttpResolver` with validation and a pydantic body, one
boto3 DynamoDB client, and an aiosmtplib STARTTLS + login against the server in the body, then one
`put_item`: what any handler doing this job has to import and do.

The body declares a sender address as pydantic's `EmailStr`, which loads email-validator: the API takes
one (`fromAddress`) and, as here, a username that is an address is one (the sender's domain names its
provider), so email-validator is one of the third-party pieces this request needs. The floor left it out
until the API stopped importing it at cold start and the request's own use of it showed (2026-12-05)."""

import asyncio
import json
import os
import ssl
import time
from typing import Any

import aiosmtplib
import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, EmailStr, Field

logger = Logger(service="floor")
dynamodb = boto3.client("dynamodb")
app = APIGatewayHttpResolver(enable_validation=True)
TABLE = os.environ["TABLE_NAME"]


class CheckRequest(BaseModel):
    host: str
    port: int = Field(ge=1, le=65535)
    security: str
    username: str
    password: str
    settings_id: str | None = Field(default=None, alias="settingsId")
    from_address: EmailStr | None = Field(default=None, alias="fromAddress")


async def login(body: CheckRequest) -> str:
    context = ssl.create_default_context()
    for path in filter(None, os.environ.get("SMTP_PREFLIGHT_CA_FILE", "").split(":")):
        context.load_verify_locations(cafile=path)
    client = aiosmtplib.SMTP(
        hostname=body.host, port=body.port, start_tls=True, tls_context=context, local_hostname="[127.0.0.1]"
    )
    await client.connect()
    response = await client.login(body.username, body.password)
    await client.quit()
    return f"{response.code}"


@app.post("/v1/smtp-checks")
def create_check(body: CheckRequest) -> Response[str]:
    reply = asyncio.run(login(body))
    check_id = f"floor-{time.time_ns()}"
    dynamodb.put_item(
        TableName=TABLE,
        Item={"pk": {"S": f"TENANT#floor#CHECK#{check_id}"}, "sk": {"S": "REPORT"}, "reply": {"S": reply}},
    )
    return Response(201, "application/json", json.dumps({"checkId": check_id, "reply": reply}))


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
