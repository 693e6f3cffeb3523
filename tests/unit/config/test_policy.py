"""The operator's policy from the environment: a CA file that does not load is the operator's mistake,
named by its variable when the process starts, never a server's certificate blamed later."""

from __future__ import annotations

from pathlib import Path

import pytest
import trustme

from smtp_preflight.config.policy import ConfigError, Policy


@pytest.fixture
def ca_file(tmp_path: Path) -> Path:
    path = tmp_path / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(path))
    return path


def test_readable_ca_files_are_trusted_in_order(ca_file: Path, tmp_path: Path) -> None:
    second = tmp_path / "second.pem"
    trustme.CA().cert_pem.write_to_path(str(second))

    policy = Policy.from_env({"SMTP_PREFLIGHT_CA_FILE": f"{ca_file}:{second}"})

    assert policy.ca_files == (str(ca_file), str(second))


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("{tmp}/gone/demo-ca.pem", "cannot read"),  # a `make run` that has ended
        ("{ca}:{tmp}/gone.pem", "cannot read"),  # one good file does not hide a bad one
        ("{tmp}", "cannot read"),  # a directory
        ("{tmp}/not-pem.txt", "no PEM certificate"),
    ],
)
def test_a_ca_file_that_does_not_load_is_named_at_once(
    value: str, says: str, ca_file: Path, tmp_path: Path
) -> None:
    (tmp_path / "not-pem.txt").write_text("not a certificate\n")

    with pytest.raises(ConfigError) as refused:
        Policy.from_env({"SMTP_PREFLIGHT_CA_FILE": value.format(tmp=tmp_path, ca=ca_file)})

    assert str(refused.value).startswith("SMTP_PREFLIGHT_CA_FILE: ")
    assert says in str(refused.value)
