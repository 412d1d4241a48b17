"""Fault tolerance: SIGKILL the pipeline at seeded points; every output is then the previous
complete version or absent, and the next run completes.

A small draw (40 households per province) runs synth -> ingest -> clean -> features once to
completion (the previous version of every output), counting its file operations (temporary files
created and renames, ``reliability_support.RUNNER``). Then the same stages are started again and
killed from inside the process (SIGKILL, so no handler runs) at five seeded operations: each kill
lands on a known point of the run whatever the load of the machine (no timing). After each kill
every output file must hash to its previous complete version (the pipeline is deterministic, so a
complete rewrite gives the same bytes) or be absent; the only other files allowed are temporary
files, backups and the commit journal (``io.is_temporary``) and the lock files. A final run
completes, removes those, and reproduces every previous hash.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from reliability_support import small_pipeline, stage_env, tree_hashes

LOCK_NAME = ".ctip.lock"  # ctip_research.stages.runner.LOCK_NAME

STAGES = ("synth", "ingest", "clean", "features")
SEED = 20260909
N_KILLS = 5


def _run(root: Path, **env: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "run_stages.py", *STAGES],
        cwd=root,
        env={**stage_env(1), **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        timeout=300,
        check=False,
    )


def _is_temp(rel: str) -> bool:
    return Path(rel).name.startswith(".") and Path(rel).name != LOCK_NAME


def _readable(path: Path) -> None:
    if path.suffix == ".parquet":
        pd.read_parquet(path)
    elif path.suffix == ".json":
        json.loads(path.read_text("utf-8"))


@pytest.mark.slow
def test_killed_pipeline_leaves_complete_or_absent_outputs(tmp_path: Path) -> None:
    root = small_pipeline(tmp_path / "work")
    done = _run(root, CTIP_TEST_COUNT_FILE=str(tmp_path / "ops"))
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    n_ops = int((tmp_path / "ops").read_text())
    previous = tree_hashes(root / "data")
    assert previous and not any(_is_temp(r) for r in previous)
    rng = np.random.default_rng(SEED)
    points = sorted(int(k) for k in rng.choice(np.arange(1, n_ops + 1), N_KILLS, replace=False))
    temps: set[str] = set()
    for point in points:
        proc = _run(root, CTIP_TEST_KILL_AT=str(point))
        assert proc.returncode == -signal.SIGKILL, (point, proc.stderr.decode()[-2000:])
        now = tree_hashes(root / "data")
        temps |= {r for r in now if _is_temp(r)}
        for rel, digest in now.items():
            if _is_temp(rel) or Path(rel).name == LOCK_NAME:
                continue
            assert previous.get(rel) == digest, f"{rel} is neither absent nor the previous version"
            _readable(root / "data" / rel)
    print(f"{n_ops} file operations; killed at {points}; left by kills: {sorted(temps)}")
    # a kill between creating and renaming a temporary file leaves one like this
    stale = root / "data/interim/ingested/.households.parquet.k1ll3d_x.parquet"
    stale.write_bytes(b"PAR1 partial")
    final_run = _run(root)
    assert final_run.returncode == 0, final_run.stderr.decode()[-3000:]
    final = tree_hashes(root / "data")
    assert [r for r in final if _is_temp(r)] == []  # stale temporary files were removed
    assert final == previous
