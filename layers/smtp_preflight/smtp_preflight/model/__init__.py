"""The shared model every flow speaks: what a customer submits, what a check finds, what it returns.

- `settings.py`: the settings a customer submits, validated and normalised (secrets as `SecretStr`).
- `codes.py`: the finding codes and their specs (severity, actor, field, retryable).
- `findings.py`: findings as data (a code plus params), worded from the catalogues.
- `report.py`: the report and the stored check, the contract every interface returns.
- `progress.py`: the `StageObserver` that hears each handshake stage.
- `identifiers.py`: ids that become keys and URLs (tenants, settings records, checks).
- `localise.py`: a stored report worded again in another language.
- `input_errors.py`: validation errors in words for people, never echoing the input.
"""
