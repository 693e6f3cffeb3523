"""One cold start, as Lambda's Python runtime does it: put the function's code folder on `sys.path`,
import the handler's module, call the handler once with the event and a context. Run as a script in a
fresh process: `python lambda_runner.py CODE_DIR MODULE.FUNCTION EVENT_FILE`. Prints one JSON line:
seconds to import, seconds to serve, peak RSS (MB), the response's status (or batch failures) and the
monotonic moment the handler answered, so the parent can leave out the interpreter's exit.

Deliberately imports nothing but the standard library before the handler.
"""

from __future__ import annotations

import importlib
import json
import resource
import sys
import time

STARTED = time.perf_counter()


class Context:
    function_name = "smtp-preflight-bench"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:smtp-preflight-bench"
    memory_limit_in_mb = 128
    aws_request_id = "00000000-0000-4000-8000-000000000000"
    log_group_name = "/aws/lambda/smtp-preflight-bench"
    log_stream_name = "bench"

    def __init__(self, timeout: float) -> None:
        self._deadline = time.monotonic() + timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def peak_rss_mb() -> float:
    """This process's peak resident set size (VmHWM; getrusage's ru_maxrss may still count the
    parent's pages from before exec)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(code_dir: str, handler_path: str, event_file: str, timeout: str = "28") -> None:
    with open(event_file, encoding="utf-8") as handle:
        event = json.load(handle)
    sys.path.insert(0, code_dir)
    module_name, _, function_name = handler_path.rpartition(".")
    handler = getattr(importlib.import_module(module_name), function_name)
    imported = time.perf_counter()
    cpu_before = time.process_time()
    response = handler(event, Context(float(timeout)))
    served = time.perf_counter()
    outcome = response.get("statusCode") if isinstance(response, dict) else None
    if isinstance(response, dict) and "batchItemFailures" in response:
        outcome = f"{len(response['batchItemFailures'])} failed"
    result = {
        "import_s": imported - STARTED,
        "serve_s": served - imported,
        "serve_cpu_s": time.process_time() - cpu_before,
        "cpu_s": time.process_time(),
        "maxrss_mb": peak_rss_mb(),
        "outcome": outcome,
        "answered_at": served,  # CLOCK_MONOTONIC, system-wide on Linux: the parent reads it against its spawn
    }
    stdout = sys.__stdout__  # the real stdout, whatever the handler did to sys.stdout
    assert stdout is not None
    stdout.write("BENCH " + json.dumps(result) + "\n")


if __name__ == "__main__":
    main(*sys.argv[1:])
