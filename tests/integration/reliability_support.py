"""Helpers of the reliability tests: small params in a temporary directory, directory hashes."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
#: HMAC key of the test corpora (32+ bytes; public, so only for made-up test data).
TEST_HMAC_KEY = "ctip-test-corpus-key-8f41c2d09e7b6a53"


def repo_params() -> dict[str, Any]:
    """The repository's params.yaml as a plain dict."""
    return yaml.safe_load((REPO_ROOT / "params.yaml").read_text(encoding="utf-8"))


def ingest_params(
    root: Path,
    codebook: Path,
    *,
    change: Callable[[dict, Path], None] | None = None,
    text: Callable[[str], str] | None = None,
) -> Path:
    """Write ``root/params.yaml``: the repository's params with one source and paths in ``root``
    (then ``change`` applied to the dict and ``text`` to the YAML text, for corpus cases)."""
    p = repo_params()
    p["paths"] = {
        "raw": str(root / "raw"),
        "interim": str(root / "interim"),
        "processed": str(root / "processed"),
    }
    p["ingest"]["sources"] = [str(codebook)]
    p["clean"]["corrections_file"] = None
    # the corpus says `synthetic: true` but ctip synth did not write it: it needs a real key
    key_file = root / "hmac.key"
    key_file.write_text(TEST_HMAC_KEY + "\n", encoding="utf-8")
    p["privacy"]["hmac_key_env"] = "CTIP_TEST_CORPUS_NO_SUCH_VARIABLE"
    p["privacy"]["hmac_key_file"] = str(key_file)
    if change is not None:
        change(p, root)
    dumped = yaml.safe_dump(p, sort_keys=False, allow_unicode=True)
    path = root / "params.yaml"
    path.write_text(text(dumped) if text is not None else dumped, encoding="utf-8")
    return path


def sentinel_leaks(sentinels: Sequence[str], text: str, *dirs: Path) -> list[str]:
    """Where any sentinel value appears: in ``text`` (messages and log lines) or in any file
    under ``dirs`` (Parquet and Stata files read back, every other file as UTF-8 text)."""
    import pandas as pd
    import pyreadstat

    found = [f"output: {s}" for s in sentinels if s in text]
    for d in dirs:
        for path in sorted(d.rglob("*")) if d.exists() else []:
            if not path.is_file():
                continue
            if path.suffix == ".parquet":
                df = pd.read_parquet(path)
                body = df.astype(str).to_csv(index=False)
            elif path.suffix == ".dta":
                df, _ = pyreadstat.read_dta(str(path))
                body = df.astype(str).to_csv(index=False)
            else:
                body = path.read_bytes().decode("utf-8", errors="replace")
            found += [f"{path}: {s}" for s in sentinels if s in body]
    return found


def tree_hashes(directory: Path) -> dict[str, str]:
    """sha256 of every file under ``directory`` by relative path (empty if it does not exist)."""
    if not directory.exists():
        return {}
    return {
        p.relative_to(directory).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


#: Stages of the determinism test, in dvc.yaml order (``report`` reads the notebooks that
#: :func:`small_pipeline` copies).
PIPELINE = (
    "synth",
    "ingest",
    "clean",
    "features",
    "fit",
    "risk",
    "validate",
    "monte_carlo",
    "figures",
    "brief",
    "power",
    "report",
)

RUNNER = """\
import importlib, os, signal, sys, tempfile
from ctip_research.config import load_params
from ctip_research.stages.runner import run_stage

# Fault injection for the kill test: count the file operations of the run (temporary files
# created, renames) and SIGKILL this process at operation CTIP_TEST_KILL_AT; write the count to
# CTIP_TEST_COUNT_FILE at the end of a complete run.
kill_at = int(os.environ.get("CTIP_TEST_KILL_AT", "0"))
count_file = os.environ.get("CTIP_TEST_COUNT_FILE")
ops = [0]

def counted(real):
    def op(*args, **kwargs):
        ops[0] += 1
        if ops[0] == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)
    return op

if kill_at or count_file:
    tempfile.mkstemp = counted(tempfile.mkstemp)
    os.replace = counted(os.replace)
params = load_params("params.yaml")
for stage in sys.argv[1:]:
    run_stage(stage, params)  # as the CLI runs it: locked, recovered, one transaction
if count_file:
    open(count_file, "w").write(str(ops[0]))
"""


def small_pipeline(root: Path, households_per_province: int = 40) -> Path:
    """A working copy in ``root``: params.yaml of a small draw (relative paths inside ``root``)
    and ``run_stages.py`` that runs stages in one process (one import, not one per stage), and a
    copy of ``notebooks/`` for the report stage."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(REPO_ROOT / "notebooks", root / "notebooks", dirs_exist_ok=True)
    p = repo_params()
    p["synth"]["design"]["households_per_province"] = households_per_province
    p["fit"]["robustness"]["bootstrap_reps"] = 99  # the minimum allowed
    p["risk"]["n_bootstrap"] = 20
    p["risk"]["n_permutation_repeats"] = 1
    p["monte_carlo"].update(  # two tiny draws of two worlds, in-process
        scenarios=["default", "misreported_debt"], draws=2, households_per_province=20, n_jobs=1
    )
    (root / "params.yaml").write_text(yaml.safe_dump(p, sort_keys=False, allow_unicode=True))
    (root / "run_stages.py").write_text(RUNNER)
    return root


def stage_env(threads: int) -> dict[str, str]:
    """Environment of a pipeline subprocess with ``threads`` BLAS/OpenMP threads."""
    import os

    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    env["PYTHONHASHSEED"] = "random"  # outputs must not depend on str hashing either
    return env
