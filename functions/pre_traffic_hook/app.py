"""CodeDeploy's pre-traffic hook (template.yaml `Hooks: PreTraffic`): before any traffic shifts to a new
version of the API function, run the rules-only probe through that version (`checking/probe.py`) and
report the verdict. A failed probe, or an error here, rolls the deployment back."""

import os
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from smtp_preflight.aws.deployment_hook import probe_version, report_verdict
from smtp_preflight.aws.observability import logger


@logger.inject_lambda_context(log_event=False, clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> None:
    version = os.environ["PROBED_FUNCTION_VERSION"]
    try:
        passed, answer = probe_version(version)
    except Exception:
        logger.exception("deployment probe could not run", extra={"version": version})
        passed, answer = False, {}
    logger.info("deployment probe", extra={"version": version, "passed": passed, "answer": answer})
    report_verdict(event["DeploymentId"], event["LifecycleEventHookExecutionId"], passed)
