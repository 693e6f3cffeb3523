"""pytest plugin: fixtures every test package shares (the test CA and its server contexts)."""

from pathlib import Path

import pytest

from tests.support.smtp_servers import Pki, make_pki


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(Path(tmp_path_factory.mktemp("pki")))
