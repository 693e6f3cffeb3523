"""The watch planner, started by an EventBridge Scheduler schedule every few minutes (template.yaml):
enqueue the watched records due in this window as `SmtpRecheckDue` messages on the worker's queue
(`smtp_preflight.watch.planner`). The schedule's event carries nothing the planner needs: the window is
the invocation's time. A failure raises, so Scheduler retries; records it left due are planned by the
next run either way.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from smtp_preflight.aws.observability import logger, tracer

from . import services


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = services.planner.plan()
    fields = result.log_fields()
    if result.due:  # a quiet window says nothing (it would be 144 lines a day saying nothing)
        logger.info("re-checks planned", extra=fields)
    else:
        logger.debug("no re-check due", extra=fields)
    return fields
