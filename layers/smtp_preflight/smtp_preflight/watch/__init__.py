"""Watched settings: what is watched and when it is due, what counts as a change, and the planner.

- `schedule.py`: `WatchSchedule` (hash-spread moments in the period, due-time buckets, delays), the
  watched record (`Watch`, `WatchedReport`) and `SmtpRecheckDue`'s detail (`RecheckDue`).
- `drift.py`: the pure comparisons of a re-check with the previous watched report, and
  `SmtpCheckStatusChanged`'s detail (`CheckStatusChanged`).
- `planner.py`: `WatchPlanner`, one scheduled run: due records from the index onto the worker's queue.

The worker runs the re-checks (`worker.rechecks`); the AWS side is `aws.watch_store` and
`aws.recheck_queue`. Nothing here imports the worker.
"""
