"""Helpers of the reliability tests: small params in a temporary directory, directory hashes."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]


def repo_params() -> dict[str, Any]:
    """The repository's params.yaml as a plain dict."""
    return yaml.safe_load((REPO_ROOT / "params.yaml").read_text(encoding="utf-8"))


def ingest_params(root: Path, codebook: Path) -> Path:
    """Write ``root/params.yaml``: the repository's params with one source and paths in ``root``."""
    p = repo_params()
    p["paths"] = {
        "raw": str(root / "raw"),
        "interim": str(root / "interim"),
        "processed": str(root / "processed"),
    }
    p["ingest"]["sources"] = [str(codebook)]
    p["clean"]["corrections_file"] = None
    path = root / "params.yaml"
    path.write_text(yaml.safe_dump(p, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


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
import importlib, sys
from ctip_research.config import load_params
params = load_params("params.yaml")
for stage in sys.argv[1:]:
    getattr(importlib.import_module(f"ctip_research.stages.{stage}"), f"run_{stage}")(params)
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
