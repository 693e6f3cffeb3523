"""The batch benchmark judges the batch the template deploys, not a bigger one: its judged size is the
worker's batch size and the number of records one invocation runs at once, as template.yaml sets them."""

from __future__ import annotations

from benchmarks.batch import DEPLOYED_BATCH
from local.tables import load_template


def test_the_judged_batch_is_the_deployed_one() -> None:
    parameters = load_template()["Parameters"]
    assert parameters["WorkerBatchSize"]["Default"] == DEPLOYED_BATCH
    assert parameters["WorkerBatchSize"]["MaxValue"] == DEPLOYED_BATCH  # never more in one invocation
    assert parameters["WorkerCheckConcurrency"]["Default"] >= DEPLOYED_BATCH  # all of it at once
