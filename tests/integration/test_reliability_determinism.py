"""Determinism: two runs from a clean state, one with 1 and one with 2 BLAS/OpenMP
threads (and different ``PYTHONHASHSEED``), give byte-identical outputs of every stage of
``reliability_support.PIPELINE`` (synth, ingest, clean, features, fit, risk, validate,
monte_carlo, figures, brief, power, report: rendered notebooks included); and the source tree has
no unseeded randomness.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from reliability_support import PIPELINE, REPO_ROOT, small_pipeline, stage_env, tree_hashes

#: Randomness that does not come from a seeded numpy Generator: numpy's legacy global-state
#: functions, the standard library's ``random``, ``default_rng()`` without a seed.
UNSEEDED = {
    "numpy legacy global RNG": re.compile(
        r"\bnp\.random\.(?!default_rng\b|Generator\b|SeedSequence\b|PCG64\b|BitGenerator\b)"
        r"[a-z_]+\s*\("
    ),
    "stdlib random": re.compile(
        r"^\s*(import random\b|from random import)|\brandom\.(random|randint|choice|shuffle|seed|sample|uniform)\("
    ),
    "default_rng() without a seed": re.compile(r"default_rng\(\s*\)"),
    "RandomState": re.compile(r"\bRandomState\("),
}


def unseeded_randomness(root: Path) -> list[str]:
    """Lines of ``root/**/*.py`` that draw randomness without an explicit seed."""
    hits = []
    for path in sorted(root.rglob("*.py")):
        for n, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            for what, rx in UNSEEDED.items():
                if rx.search(code):
                    hits.append(f"{path.relative_to(root)}:{n}: {what}: {line.strip()}")
    return hits


def test_source_tree_has_no_unseeded_randomness() -> None:
    assert unseeded_randomness(REPO_ROOT / "src") == []


def test_unseeded_randomness_scan_finds_planted_calls(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text(
        "import random\nx = np.random.rand(3)\nrng = np.random.default_rng()\n"
        "ok = np.random.default_rng(5)\nrs = np.random.RandomState(1)\n"
    )
    hits = unseeded_randomness(tmp_path)
    assert [h.split(":")[1] for h in hits] == ["1", "2", "3", "5"]


@pytest.mark.slow
def test_two_clean_runs_with_1_and_2_threads_are_byte_identical(tmp_path: Path) -> None:
    procs = {}
    for threads in (1, 2):
        root = small_pipeline(tmp_path / f"threads{threads}")
        procs[threads] = (
            root,
            subprocess.Popen(
                [sys.executable, "run_stages.py", *PIPELINE],
                cwd=root,
                env=stage_env(threads),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            ),
        )
    hashes = {}
    for threads, (root, proc) in procs.items():
        _, err = proc.communicate(timeout=400)
        assert proc.returncode == 0, err.decode()[-3000:]
        hashes[threads] = tree_hashes(root / "data")
    one, two = hashes[1], hashes[2]
    assert sorted(one) == sorted(two)
    differ = sorted(k for k in one if one[k] != two[k])
    assert differ == []
    for prefix in (
        "raw/synthetic/",
        "interim/ingested/",
        "processed/tables/",
        "processed/analysis/",
        "processed/models/",
        "processed/risk/",
        "processed/validation/",
        "processed/figures/",
        "processed/brief/",
        "processed/reports/",
    ):
        assert any(k.startswith(prefix) for k in one), prefix
    print(f"{len(one)} output files identical across runs (1 vs 2 threads)")
