"""Memory: peak RSS of one API invocation (the cold-start runs of `cold_start`) and of the worker's
batches (`batch`), against a 128 MB function (target ≤ 110 MB), and what each memory size would cost.
Judged is the batch the template deploys (`batch.DEPLOYED_BATCH` records at once); a bigger batch is
shown, not judged: one invocation never holds more (100 records all in flight at once peak near 130 MB).

No runs of its own: the figures come from the processes the other benchmarks started (peak RSS is the
process's VmHWM). The cost model: Lambda gives a function CPU in proportion to its memory (one vCPU at
1769 MB); the CPU seconds a run used here (one core) stretch by 1769 / MB below that, the rest of its
wall time is waiting on the network and does not. Cost is GB-seconds (arm64, same price per GB-s).
"""

from __future__ import annotations

from benchmarks.batch import DEPLOYED_BATCH
from benchmarks.harness import Figure, median

LIMIT_MB = 110.0
SIZES_MB = (128, 256, 512, 1024, 1769)
FULL_CPU_MB = 1769


def estimate(wall_s: float, cpu_s: float, memory_mb: int) -> tuple[float, float]:
    """(duration s, GB-s) of a run that took `wall_s` with `cpu_s` of one core here."""
    wait = max(wall_s - cpu_s, 0.0)
    duration = wait + cpu_s * max(1.0, FULL_CPU_MB / memory_mb)
    return duration, duration * memory_mb / 1024


def figures(api_runs: list[dict[str, float]], batch_runs: dict[int, list[dict[str, float]]]) -> list[Figure]:
    found = []
    if api_runs:
        found.append(
            Figure("memory", "API: one POST (cold process)", median([r["maxrss_mb"] for r in api_runs]), "MB",
                   target=LIMIT_MB, target_on="value", note="peak RSS, 128 MB function")
        )  # fmt: skip
    for size in sorted({DEPLOYED_BATCH, max(batch_runs, default=DEPLOYED_BATCH)} & set(batch_runs)):
        peak = median([r["maxrss_mb"] for r in batch_runs[size]])
        judged = size == DEPLOYED_BATCH
        found.append(
            Figure("memory", f"worker: {size}-record batch", peak, "MB",
                   target=LIMIT_MB if judged else None, target_on="value",
                   note="peak RSS, 128 MB function" + ("" if judged else "; not judged: not deployed"))
        )  # fmt: skip
    return found


def cost_table(name: str, runs: list[dict[str, float]]) -> list[str]:
    """One line per memory size: estimated duration and GB-s of the measured run (import + serve)."""
    if not runs:
        return []
    wall = median([r["import_s"] + r["serve_s"] for r in runs])
    cpu = median([r["cpu_s"] for r in runs])
    lines = [f"{name}: measured {wall * 1000:.0f} ms wall, {cpu * 1000:.0f} ms CPU (cold start included)"]
    for memory_mb in SIZES_MB:
        duration, gb_s = estimate(wall, cpu, memory_mb)
        lines.append(f"    {memory_mb:>5} MB: ~{duration:5.2f} s, {gb_s:.3f} GB-s")
    return lines
