"""Size: the layers and the functions as Lambda receives them, zipped, against the unpruned shared layer
built in the same run, and the time each layer takes to unpack.

Each layer is built the way `make build` builds it (pip fetches the arm64 / cp313 wheels of its
`requirements.txt`), pruned by `layers/smtp_preflight/prune.py` and compiled to bytecode by Python 3.13
when one is found (as `make build` does; the note says when not); the functions are the `functions/`
code root, compiled alike. The target (12 MB) is the shared layer plus every function; the two layers a
parameter attaches are reported apart: the legacy envelopes layer (`cryptography`, the event worker's
only, while `OpenLegacyEnvelopes` is on) and the detailed tracing layer (the X-Ray SDK, while
`DetailedTracing` is on). Lambda downloads and unpacks a function's layers at init, before any code
runs: the unpacking of each zip here (median of `UNPACK_REPEATS`, interleaved) is the proxy for that cost.
Sizes are deterministic, so nothing else is repeated. Without network or a pip cache the build fails and
the benchmark says so instead.
"""

from __future__ import annotations

import functools
import glob
import os
import shutil
import subprocess
import tempfile
import time
import zipfile
from pathlib import Path

from benchmarks.harness import PYTHON, ROOT, Figure, interleave, median

LAYER = ROOT / "layers" / "smtp_preflight"
LEGACY_LAYER = ROOT / "layers" / "legacy_envelopes"
TRACING_LAYER = ROOT / "layers" / "detailed_tracing"  # its Makefile installs it --no-deps, as here
PRUNE = LAYER / "prune.py"
UNPACK_REPEATS = 7
# unpacked into memory where there is a tmpfs: a shared machine's disk would time its neighbours' writes
SHM = Path("/dev/shm")  # noqa: S108 - only the parent of a private TemporaryDirectory
MEMORY_DIR = str(SHM) if SHM.is_dir() and os.access(SHM, os.W_OK) else None


def zipped_size(directory: Path, archive: Path) -> int:
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for path in sorted(directory.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(directory))
    return archive.stat().st_size


def python313() -> str | None:
    """The Lambda runtime's Python, for bytecode: on PATH, in PY313_BIN or installed by pyenv."""
    candidates = [
        *([os.path.join(os.environ["PY313_BIN"], "python3.13")] if os.environ.get("PY313_BIN") else []),
        *sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.13*/bin/python3.13")), reverse=True),
        shutil.which("python3.13"),  # last: may be a pyenv shim that refuses to run
    ]
    for candidate in filter(None, candidates):
        if subprocess.run([candidate, "-c", "pass"], capture_output=True, check=False).returncode == 0:
            return candidate
    return None


def compile_bytecode(interpreter: str, *directories: Path) -> None:
    subprocess.run(
        [interpreter, "-m", "compileall", "-q", "-j0", "--invalidation-mode", "unchecked-hash",
         *map(str, directories)],
        check=True, capture_output=True,
    )  # fmt: skip


def build_layer(target: Path, layer: Path = LAYER) -> None:
    no_deps = ["--no-deps"] if layer == TRACING_LAYER else []
    subprocess.run(
        [PYTHON, "-m", "pip", "--disable-pip-version-check", "install", "--quiet", "--no-compile", *no_deps,
         "--platform", "manylinux2014_aarch64", "--python-version", "3.13", "--implementation", "cp",
         "--only-binary=:all:", "--target", str(target / "python"), "-r", str(layer / "requirements.txt")],
        check=True, capture_output=True,
    )  # fmt: skip
    if layer == LAYER:
        skipped = shutil.ignore_patterns("__pycache__", "*.pyc")
        shutil.copytree(LAYER / "smtp_preflight", target / "python" / "smtp_preflight", ignore=skipped,
                        dirs_exist_ok=True)  # fmt: skip


def unpack_seconds(archive: Path, scratch: Path) -> float:
    """Wall seconds to unpack `archive` into an empty folder, as Lambda unpacks a layer into /opt: with
    Info-ZIP's `unzip` where installed (native code, like Lambda's), else Python's `zipfile`."""
    target = scratch / "unpacked"
    shutil.rmtree(target, ignore_errors=True)
    unzip = shutil.which("unzip")
    started = time.perf_counter()
    if unzip is not None:
        subprocess.run([unzip, "-q", "-o", str(archive), "-d", str(target)], check=True, capture_output=True)
    else:
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(target)
    elapsed = time.perf_counter() - started
    shutil.rmtree(target)
    return elapsed


def run() -> tuple[list[Figure], list[str]]:
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="smtp-preflight-size-") as tmp:
        work = Path(tmp)
        full, pruned, legacy, tracing = work / "full", work / "pruned", work / "legacy", work / "tracing"
        try:
            build_layer(full)
            build_layer(legacy, LEGACY_LAYER)
            build_layer(tracing, TRACING_LAYER)
        except subprocess.CalledProcessError as error:
            reason = error.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["pip failed"]
            return [], [f"size: skipped, the layer could not be built here ({reason[0]})"]
        shutil.copytree(full, pruned)
        for layer in (pruned, legacy, tracing):
            subprocess.run([PYTHON, str(PRUNE), str(layer / "python")], check=True, capture_output=True)
        functions = work / "functions"
        shutil.copytree(ROOT / "functions", functions, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        interpreter = python313()
        if interpreter is not None:
            compile_bytecode(interpreter, full, pruned, legacy, tracing, functions)
        else:
            notes.append("size: no Python 3.13 here, so the sizes leave out the bytecode make build adds")
        built = ("full", "pruned", "legacy", "tracing", "functions")
        archives = {name: work / f"{name}.zip" for name in built}
        layer_full = zipped_size(full, archives["full"]) / 1e6
        layer_pruned = zipped_size(pruned, archives["pruned"]) / 1e6
        layer_legacy = zipped_size(legacy, archives["legacy"]) / 1e6
        layer_tracing = zipped_size(tracing, archives["tracing"]) / 1e6
        functions_zip = zipped_size(functions, archives["functions"]) / 1e6
        with tempfile.TemporaryDirectory(prefix="smtp-preflight-unpack-", dir=MEMORY_DIR) as scratch:
            unpacking = {
                name: functools.partial(unpack_seconds, archives[name], Path(scratch))
                for name in ("pruned", "legacy")
            }
            samples = interleave(unpacking, UNPACK_REPEATS)
        unpacked = {name: median(values) for name, values in samples.items()}
    function_count = sum(1 for path in (ROOT / "functions").iterdir() if (path / "app.py").is_file())
    total = layer_pruned + functions_zip * function_count
    baseline_total = layer_full + functions_zip * function_count
    return [
        Figure("size", "layer, zipped (botocore pruned to the services used)", layer_pruned, "MB",
               baseline=layer_full, baseline_name="unpruned"),
        Figure("size", f"layer + {function_count} functions, zipped", total, "MB", baseline=baseline_total,
               baseline_name="unpruned", target=12.0, target_on="value",
               note="each function's package is the functions/ code root; the legacy layer is apart"),
        Figure("size", "legacy envelopes layer, zipped (the event worker's only)", layer_legacy, "MB",
               baseline=layer_pruned, baseline_name="shared layer",
               note="cryptography, attached while OpenLegacyEnvelopes is on; not in the 12 MB target"),
        Figure("size", "detailed tracing layer, zipped (only with DetailedTracing)", layer_tracing, "MB",
               baseline=layer_pruned, baseline_name="shared layer",
               note="the X-Ray SDK and wrapt, attached to every function while DetailedTracing is on"),
        Figure("size", "legacy envelopes layer, unpacked at the worker's init", unpacked["legacy"], "s",
               baseline=unpacked["pruned"], baseline_name="shared layer",
               note="unzip into memory as the proxy for Lambda's unpacking at init (its download adds "
                    "time in proportion to the zipped size); cryptography is imported only when an old "
                    "envelope arrives, so its import adds nothing to a cold start"),
    ], notes  # fmt: skip
