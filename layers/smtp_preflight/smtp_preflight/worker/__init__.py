"""The event worker: one SQS record in, one `RecordResult` out (or `RecordFailed`, so SQS retries it).

- `records.py`: the worker's vocabulary, shared by both handlers: outcomes, failures, the batch budget.
- `settings_changes.py`: the handler of the SaaS's settings events, and the dispatch of every record.
- `check_requests.py`: the handler of the API's asynchronous checks.
- `rechecks.py`: the watch's lifecycle and the handler of scheduled re-checks (`SmtpRecheckDue`).
- `settings_events.py`: the event contract with the SaaS (settings changed or deleted, check completed).
- `settings_versions.py`: one check per settings version: the ledger's decision table.
"""
