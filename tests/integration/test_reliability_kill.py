"""Fault tolerance (issue 9): SIGKILL the pipeline at random points; every output is then the
previous complete version or absent, and the next run completes.

A small draw (40 households per province) runs synth -> ingest -> clean -> features once to
completion (the previous version of every output). Then the same stages are started again and
killed (SIGKILL to the process group, so no handler runs) at seeded random times, five times.
After each kill every output file must hash to its previous complete version (the pipeline is
deterministic, so a complete rewrite gives the same bytes) or be absent; the only other files
allowed are temporary files ``.<name>.<random><suffix>`` of io.atomic_path. A final run
completes, removes those, and reproduces every previous hash.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from reliability_support import small_pipeline, stage_env, tree_hashes

STAGES = ("synth", "ingest", "clean", "features")
SEED = 20260909
N_KILLS = 5


def _start(root: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "run_stages.py", *STAGES],
        cwd=root,
        env=stage_env(1),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def _complete_run(root: Path) -> float:
    start = time.perf_counter()
    proc = _start(root)
    _, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err.decode()[-3000:]
    return time.perf_counter() - start


def _is_temp(rel: str) -> bool:
    return Path(rel).name.startswith(".")


def _readable(path: Path) -> None:
    if path.suffix == ".parquet":
        pd.read_parquet(path)
    elif path.suffix == ".json":
        json.loads(path.read_text("utf-8"))


@pytest.mark.slow
def test_killed_pipeline_leaves_complete_or_absent_outputs(tmp_path: Path) -> None:
    root = small_pipeline(tmp_path / "work")
    duration = _complete_run(root)
    previous = tree_hashes(root / "data")
    assert previous and not any(_is_temp(r) for r in previous)
    rng = np.random.default_rng(SEED)
    killed, temps = 0, set()
    for delay in rng.uniform(0.5, max(1.0, duration - 0.5), size=N_KILLS):
        proc = _start(root)
        time.sleep(float(delay))
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        killed += proc.wait(timeout=30) == -signal.SIGKILL
        now = tree_hashes(root / "data")
        temps |= {r for r in now if _is_temp(r)}
        for rel, digest in now.items():
            if _is_temp(rel):
                continue
            assert previous.get(rel) == digest, f"{rel} is neither absent nor the previous version"
            _readable(root / "data" / rel)
    print(
        f"run {duration:.1f} s; {killed}/{N_KILLS} kills hit a running pipeline; "
        f"temporary files left by kills: {sorted(temps)}"
    )
    assert killed >= N_KILLS - 1
    # a kill between creating and renaming a temporary file leaves one like this
    stale = root / "data/interim/ingested/.households.parquet.k1ll3d_x.parquet"
    stale.write_bytes(b"PAR1 partial")
    _complete_run(root)
    final = tree_hashes(root / "data")
    assert [r for r in final if _is_temp(r)] == []  # stale temporary files were removed
    assert final == previous
