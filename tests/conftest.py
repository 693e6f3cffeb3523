"""Shared pytest configuration for smtp-preflight tests."""

pytest_plugins = ["tests.socket_guard"]
