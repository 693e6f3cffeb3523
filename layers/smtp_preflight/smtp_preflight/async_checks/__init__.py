"""Asynchronous checks: accepted by the API (`202`), run by the worker, readable while they run.

- `running.py`: a running check's state, its live stages, and the request the worker receives.
- `acceptor.py`: the API's side: store the running item, seal the secret, queue the request.
- `lost_checks.py`: reading a check as it stands; past its `finishBy`, a running check is `CHECK_LOST`.
"""
