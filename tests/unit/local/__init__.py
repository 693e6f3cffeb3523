"""Tests for the local tooling (make run, make build) that need no running server."""
