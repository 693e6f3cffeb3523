"""Shared pytest configuration for smtp-preflight tests."""

pytest_plugins = ["tests.socket_guard", "tests.smtp_servers"]  # fixtures: socket_guard, pki
