"""What the operator sets in the environment, read once per process (never from a request).

- `policy.py`: the dialling policy (`SMTP_PREFLIGHT_*`: ports, networks, DNS servers).
- `environment.py`: each function's variables, validated at cold start.
"""
