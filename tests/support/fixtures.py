"""pytest plugin: fixtures every test package shares (the test CA and its server contexts, the demo SMTP
server, the hostile echo and transform servers of the canary tests, and the service's log lines)."""

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from fixtures.demo_smtp import DemoSmtpServer
from tests.support.echo_smtp import EchoSmtpServer
from tests.support.serving import serving
from tests.support.smtp_servers import Pki, make_pki
from tests.support.transform_smtp import TransformSmtpServer


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(Path(tmp_path_factory.mktemp("pki")))


@pytest.fixture(scope="module")
def demo_smtp() -> Iterator[DemoSmtpServer]:
    """The demo SMTP server `make run` uses (fixtures/demo_smtp.py) on loopback, one per test module: the
    logins and connections a module counts are its own."""
    with serving(DemoSmtpServer(port=0)) as server:
        yield server


@pytest.fixture(scope="module")
def echo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EchoSmtpServer]:
    """The SMTP server that echoes the secret it is sent back in every way (tests/support/echo_smtp.py)."""
    with serving(EchoSmtpServer(Path(tmp_path_factory.mktemp("echo")))) as server:
        yield server


@pytest.fixture(scope="module")
def transform_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TransformSmtpServer]:
    """The SMTP server that echoes the secret under every transform, one listener per play
    (tests/support/transform_smtp.py)."""
    with serving(TransformSmtpServer(Path(tmp_path_factory.mktemp("transforms")))) as server:
        yield server


@pytest.fixture
def service_logs() -> Iterator[io.StringIO]:
    """Everything the Powertools Logger writes during the test (its handler's stream is bound at import,
    so capsys alone would not see it)."""
    from smtp_preflight.aws.observability import logger

    buffer = io.StringIO()
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    previous = handler.setStream(buffer)
    try:
        yield buffer
    finally:
        handler.setStream(previous)
