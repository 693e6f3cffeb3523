"""One check from settings to stored report: the path every entry point (CLI, API, worker) takes.

- `check.py`: rules, then the handshake, under one deadline.
- `service.py`: check and store (`CheckService`), under the abuse limits.
- `probe.py`: the deployment probe, rules only, that the pre-traffic hook runs through a new version.
"""
