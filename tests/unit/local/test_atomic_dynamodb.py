"""`make run`'s moto server takes DynamoDB requests one at a time (DynamoDB makes each request atomic; moto
checks a condition and writes in separate steps), and lets other services' requests overlap."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from local.server import AtomicDynamoDb


class Overlaps:
    """A WSGI app that notes how many requests it serves at once; each waits until `release`."""

    def __init__(self) -> None:
        self.inside = 0
        self.most = 0
        self.lock = threading.Lock()
        self.entered = threading.Semaphore(0)
        self.release = threading.Event()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        with self.lock:
            self.inside += 1
            self.most = max(self.most, self.inside)
        self.entered.release()
        self.release.wait(5)
        with self.lock:
            self.inside -= 1
        return iter([b"{}"])


def serve_two(target: str, wait: float) -> int:
    """The most requests inside at once, of two sent together (the second is waited for `wait` s)."""
    app = Overlaps()
    atomic = AtomicDynamoDb(app)
    environ = {"HTTP_X_AMZ_TARGET": target}
    with ThreadPoolExecutor(2) as pool:
        calls = [pool.submit(atomic, environ, lambda *_: None) for _ in range(2)]
        app.entered.acquire(timeout=5)  # the first request is inside
        second_inside = app.entered.acquire(timeout=wait)
        app.release.set()
        for call in calls:
            call.result()
    return app.most if second_inside else 1


def test_dynamodb_requests_never_overlap() -> None:
    assert serve_two("DynamoDB_20120810.UpdateItem", wait=0.5) == 1


def test_other_requests_overlap() -> None:
    assert serve_two("AmazonSQS.ReceiveMessage", wait=30) == 2
