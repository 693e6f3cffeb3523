"""Everything that talks to AWS; nothing else in the layer imports boto3, botocore or Powertools (ruff
`TID251` enforces it).

Public face:
- `check_store.py`: `CheckStore`, reports by tenant in DynamoDB (`StoreError`, `Page`).
- `keys.py`: the table's key layout and pagination cursors (`CursorError`, `InvalidIdError`).
- `idempotency.py`: Powertools idempotency records in the same table, keyed explicitly.
- `observability.py`: Powertools Logger/Tracer and the EMF metrics.
- `clients.py`: the shared boto3 clients with standard retries.
- `version_ledger.py`: the event worker's ledger of settings versions (conditional writes).
- `secrets.py`: credentials from Secrets Manager (Powertools Parameters, short cache, prefix enforced).
- `events.py`: `SmtpCheckCompleted` and `SmtpCheckStatusChanged` to EventBridge.
- `checking.py`: the check service as every function builds it (store, abuse-limit gate, metrics).
- `check_queue.py`: every message on the worker's SQS queue in one envelope with the tenant's group
  (`event_body`, `queue_fields`), and asynchronous API checks onto it (`SmtpCheckRequested`).
- `sealing.py`: a request's own secret sealed with KMS for exactly one asynchronous check.
- `snapstart.py`: after a SnapStart restore, forget the snapshot's clients, credentials, caches and seeds.
- `redaction.py`: botocore's DEBUG logs without the bodies that carry a secret (KMS, Secrets Manager).
- `live_progress.py`: a running check's live stages written to its item, off the handshake's path.
- `rate_limits.py`: the abuse limits as conditional writes in the checks table.
- `deferral.py`: a record refused by a limit sent back to its queue with a delay (never to the DLQ).
- `deployment_key.py`: the deployment's HMAC key (idempotency fingerprints, mailbox names).
- `watch_store.py`: watched settings records, and the planner's due-time index (`byDueTime`).
- `deployment_hook.py`: the pre-traffic hook's probe of a new API version and its verdict to CodeDeploy.
- `recheck_queue.py`: the planner's `SmtpRecheckDue` messages onto the worker's queue, delayed.
"""
