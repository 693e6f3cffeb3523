"""Shared pytest configuration for smtp-preflight tests."""

import os

from hypothesis import settings

# CI (CI=true) explores the same examples on every run, so a submission never fails on a new random
# draw; local runs keep exploring fresh examples (and remember failures in .hypothesis/).
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

# aws_environment first: it sets the fake AWS environment before any other module is imported.
pytest_plugins = [
    "tests.support.aws_environment",
    "tests.support.socket_guard",
    "tests.support.fixtures",
    "tests.support.dns_servers",
    "tests.support.https_servers",
]
