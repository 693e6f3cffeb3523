"""The event worker: SQS messages holding the SaaS's `SmtpSettingsChanged` / `SmtpSettingsDeleted` events
(EventBridge rule → queue → this function), asynchronous API checks and the watch planner's
`SmtpRecheckDue`, with partial batch responses (`ReportBatchItemFailures`).

Thin: each record's body goes to the layer's `SettingsChangeService` (parse, claim the version, read the
secret, check and store as the API does, publish `SmtpCheckCompleted`); this module maps its result or
failure to a log line and to the batch response. Records run concurrently (they wait on the network)
within a `BatchBudget`: at most `CHECK_CONCURRENCY` at a time, and all done before the Lambda's timeout.
A failed record is left to SQS: redelivered after the visibility timeout, in the DLQ after
`maxReceiveCount` receives. A record refused by a limit is not a failure: it is sent back to the queue
with a delay until the limit frees (`aws.deferral`) and the original deleted, so it waits and never dies.
Message bodies are never logged.
"""

import asyncio
import gc
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    AsyncBatchProcessor,
    EventType,
    async_process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from smtp_preflight.aws.deferral import DeferralFailed
from smtp_preflight.aws.deployment_key import KeyUnavailable
from smtp_preflight.aws.observability import (
    log_keys,
    logger,
    record_recheck_postponed,
    record_store_failure,
    record_worker_failure,
    tracer,
)
from smtp_preflight.checking.service import StoreFailed
from smtp_preflight.limits import LimitsUnavailable
from smtp_preflight.worker.records import BatchBudget, FailureReason, Outcome, RecordFailed
from smtp_preflight.worker.settings_changes import identity_of

from . import services
from .env import ENVIRONMENT

RETURN_MARGIN_SECONDS = 2.0  # left at the end of an invocation to answer Lambda

# raise_on_entire_batch_failure=False: a batch whose every record failed is answered like any other
# (all listed as failures), instead of failing the invocation.
processor = AsyncBatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
# The records' AWS calls (boto3, blocking) run in threads via asyncio.to_thread; asyncio's default pool has
# only min(32, CPUs + 4) threads, 6 in Lambda, so concurrent records queued for them. One per record that
# may run at once, up to the botocore pool's 32 connections (`smtp_preflight.aws.clients`).
AWS_CALL_THREADS = min(32, ENVIRONMENT.check_concurrency)


def invocation_budget(context: LambdaContext) -> BatchBudget:
    remaining = context.get_remaining_time_in_millis() / 1000
    return BatchBudget(
        deadline=time.monotonic() + remaining - RETURN_MARGIN_SECONDS, limit=ENVIRONMENT.check_concurrency
    )


async def handle_record(record: SQSRecord, budget: BatchBudget) -> dict[str, Any]:
    """One record: its result's log fields, or an exception that marks it failed (never with a value of
    the event or the secret in its message). Every line logged while it runs names its tenant, settings
    record, version and check (`log_keys`: per record, though the batch's records run at once)."""
    ids: dict[str, Any] = {
        "messageId": record.message_id,
        "receiveCount": int(record.attributes.approximate_receive_count or 0),
    }
    identity = identity_of(record.body)
    with log_keys(**identity):
        try:
            result = await services.change_service.handle(record.body, budget)
        except RecordFailed as exc:
            if exc.reason is FailureReason.RATE_LIMITED and exc.retry_after is not None:
                deferred = await _defer(record, exc.retry_after, ids, identity.get("tenantId"))
                if deferred is not None:
                    return deferred
            _log_failure(exc.reason, exc.detail, ids)
            raise RecordFailed(exc.reason) from None
        except (StoreFailed, LimitsUnavailable, KeyUnavailable):  # the check must not, or could not, be kept
            record_store_failure()
            _log_failure(
                FailureReason.STORE_FAILED, "DynamoDB or the deployment key failed after retries", ids
            )
            raise RecordFailed(FailureReason.STORE_FAILED) from None
        except Exception:
            record_worker_failure("UNEXPECTED")
            logger.exception("record failed unexpectedly", extra=ids)
            raise
        if result.outcome is Outcome.POSTPONED and result.limit is not None:
            record_recheck_postponed(result.limit)
        fields = {**ids, **result.log_fields()}
        logger.info(f"record {result.outcome.value}", extra=fields)
        return fields


async def _defer(
    record: SQSRecord, retry_after: int, ids: dict[str, Any], tenant: object
) -> dict[str, Any] | None:
    """The record sent back with a delay (the original is then deleted), or None if that failed."""
    try:
        delay = await asyncio.to_thread(
            services.deferral.defer,
            record.event_source_arn,
            record.body,
            retry_after,
            tenant=tenant if isinstance(tenant, str) else None,
        )
    except DeferralFailed:
        logger.warning("could not defer a rate-limited record: SQS redelivers it", extra=ids)
        return None
    reason = FailureReason.RATE_LIMITED.value
    fields = {**ids, "outcome": Outcome.DEFERRED.value, "reason": reason, "delaySeconds": delay}
    logger.info("record deferred", extra=fields)
    return fields


def _log_failure(reason: FailureReason, detail: str, ids: dict[str, Any]) -> None:
    record_worker_failure(reason.value)
    logger.warning(
        f"record failed: {reason.value}",
        extra={**ids, "reason": reason.value, "permanent": reason.permanent, "detail": detail},
    )


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    budget = invocation_budget(context)

    # one pool per invocation: asyncio.run (outside Lambda) shuts the loop's default executor down at its end
    aws_calls = ThreadPoolExecutor(max_workers=AWS_CALL_THREADS, thread_name_prefix="aws")

    async def record_handler(record: SQSRecord) -> dict[str, Any]:
        asyncio.get_running_loop().set_default_executor(aws_calls)
        return await handle_record(record, budget)

    try:
        response: dict[str, Any] = dict(
            async_process_partial_response(
                event=event, record_handler=record_handler, processor=processor, context=context
            )
        )
    finally:
        aws_calls.shutdown(wait=False)  # threads of calls abandoned at the deadline finish on their own
    return response


gc.freeze()  # what the init built is never walked again (see __init__.py)
gc.enable()
