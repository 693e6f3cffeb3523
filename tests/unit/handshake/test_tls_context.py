"""The verifying client context: made once per policy, in a thread when prepared ahead, shared by every
caller (also callers racing for it), and made again after a failure."""

from __future__ import annotations

import ssl
import threading
from pathlib import Path

import pytest
import trustme

from smtp_preflight.config.policy import Policy
from smtp_preflight.handshake.tls import client_context, prepare_client_context


@pytest.fixture
def ca_policy(tmp_path: Path) -> Policy:
    """A policy of its own (contexts are made per policy, once per process), trusting a test CA."""
    ca = trustme.CA()
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return Policy(ca_files=(str(path),))


def test_a_prepared_context_is_the_one_every_check_gets(ca_policy: Policy) -> None:
    prepare_client_context(ca_policy)
    prepare_client_context(ca_policy)  # a no-op: it is being made already
    context = client_context(ca_policy)
    assert client_context(ca_policy) is context
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.check_hostname
    assert context.minimum_version is ssl.TLSVersion.TLSv1_2
    assert not context.verify_flags & ssl.VERIFY_X509_STRICT
    assert any(cert["subject"] for cert in context.get_ca_certs())  # the policy's CA file is trusted


def test_callers_racing_for_a_context_share_one(ca_policy: Policy) -> None:
    start = threading.Barrier(8)
    made: list[ssl.SSLContext] = []

    def ask() -> None:
        start.wait()
        made.append(client_context(ca_policy))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(made) == 8
    assert all(context is made[0] for context in made)


def test_a_ca_file_gone_since_start_up_is_skipped_not_fatal(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    policy = Policy(ca_files=(str(tmp_path / "removed.pem"),))
    prepare_client_context(policy)
    assert client_context(policy).verify_mode is ssl.CERT_REQUIRED
    assert "cannot load CA file" in caplog.text


def test_a_context_that_failed_is_made_again_by_the_next_check(tmp_path: Path) -> None:
    policy = Policy(ca_files=(str(tmp_path / "ca\0.pem"),))  # a name the OS refuses: ValueError, not OSError
    prepare_client_context(policy)
    with pytest.raises(ValueError, match="null") as first:
        client_context(policy)
    with pytest.raises(ValueError, match="null") as second:
        client_context(policy)
    assert second.value is not first.value  # tried again, not a failure kept for good
