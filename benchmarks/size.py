"""Size: the layer and the functions as Lambda receives them, zipped, against the unpruned layer built in
the same run.

The layer is built the way `make build` builds it (pip fetches the arm64 / cp313 wheels of
`layers/smtp_preflight/requirements.txt`), pruned by `layers/smtp_preflight/prune.py` and compiled to
bytecode by Python 3.13 when one is found (as `make build` does; the note says when not); the
functions are the `functions/` code root, compiled alike. Sizes
are deterministic, so nothing is repeated. Without network or a pip cache the build fails and the
benchmark says so instead.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

from benchmarks.harness import PYTHON, ROOT, Figure

LAYER = ROOT / "layers" / "smtp_preflight"
PRUNE = LAYER / "prune.py"


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


def build_layer(target: Path) -> None:
    subprocess.run(
        [PYTHON, "-m", "pip", "--disable-pip-version-check", "install", "--quiet", "--no-compile",
         "--platform", "manylinux2014_aarch64", "--python-version", "3.13", "--implementation", "cp",
         "--only-binary=:all:", "--target", str(target / "python"), "-r", str(LAYER / "requirements.txt")],
        check=True, capture_output=True,
    )  # fmt: skip
    shutil.copytree(LAYER / "smtp_preflight", target / "python" / "smtp_preflight",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"), dirs_exist_ok=True)  # fmt: skip


def run() -> tuple[list[Figure], list[str]]:
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="smtp-preflight-size-") as tmp:
        work = Path(tmp)
        full, pruned = work / "full", work / "pruned"
        try:
            build_layer(full)
        except subprocess.CalledProcessError as error:
            reason = error.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["pip failed"]
            return [], [f"size: skipped, the layer could not be built here ({reason[0]})"]
        shutil.copytree(full, pruned)
        subprocess.run([PYTHON, str(PRUNE), str(pruned / "python")], check=True, capture_output=True)
        functions = work / "functions"
        shutil.copytree(ROOT / "functions", functions, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        interpreter = python313()
        if interpreter is not None:
            compile_bytecode(interpreter, full, pruned, functions)
        else:
            notes.append("size: no Python 3.13 here, so the sizes leave out the bytecode make build adds")
        layer_full = zipped_size(full, work / "full.zip") / 1e6
        layer_pruned = zipped_size(pruned, work / "pruned.zip") / 1e6
        functions_zip = zipped_size(functions, work / "functions.zip") / 1e6
    function_count = sum(1 for path in (ROOT / "functions").iterdir() if (path / "app.py").is_file())
    total = layer_pruned + functions_zip * function_count
    baseline_total = layer_full + functions_zip * function_count
    return [
        Figure("size", "layer, zipped (botocore pruned to the services used)", layer_pruned, "MB",
               baseline=layer_full, baseline_name="unpruned"),
        Figure("size", f"layer + {function_count} functions, zipped", total, "MB", baseline=baseline_total,
               baseline_name="unpruned", target=12.0, target_on="value",
               note="each function's package is the functions/ code root"),
    ], notes  # fmt: skip
