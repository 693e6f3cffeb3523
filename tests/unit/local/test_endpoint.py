"""The scripts beside `make run` take the emulator's endpoint alike: `--endpoint-url`, by default boto3's
own variable for the service they call, and the same usage error (exit 2) when neither names one."""

from __future__ import annotations

import argparse
from collections.abc import Callable

import pytest

from local import dead_letters, publish_event, redrive
from local.endpoint import REQUIRED, add_endpoint_option, endpoint_url

SCRIPTS: dict[str, tuple[Callable[[list[str] | None], int], str]] = {
    "dead_letters": (dead_letters.main, "AWS_ENDPOINT_URL_SQS"),
    "redrive": (redrive.main, "AWS_ENDPOINT_URL_SQS"),
    "publish_event": (publish_event.main, "AWS_ENDPOINT_URL_EVENTBRIDGE"),
}


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_a_script_without_an_endpoint_says_which_option_it_needs(
    script: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    main, variable = SCRIPTS[script]
    monkeypatch.delenv(variable, raising=False)

    with pytest.raises(SystemExit) as exited:
        main([])

    assert exited.value.code == 2
    assert REQUIRED in capsys.readouterr().err


def test_the_endpoint_defaults_to_the_services_variable_and_the_option_wins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", "http://127.0.0.1:5001")
    parser = argparse.ArgumentParser()
    add_endpoint_option(parser, "AWS_ENDPOINT_URL_SQS")

    assert endpoint_url(parser, parser.parse_args([])) == "http://127.0.0.1:5001"
    assert endpoint_url(parser, parser.parse_args(["--endpoint-url", "http://x:1"])) == "http://x:1"
