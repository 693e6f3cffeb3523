"""Asynchronous checks: accepted by the API (`202`), run by the worker, readable while they run."""
