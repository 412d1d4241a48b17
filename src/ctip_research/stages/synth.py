"""``ctip synth``: generate the calibrated synthetic survey (the embedded default raw data).

Reads: ``params.yaml`` (``synth``, ``privacy.demo_key``). Writes: ``<paths.raw>/synthetic/``: the
wave-1 Kobo XLSX export and the wave-2 Stata files (or Parquet at scale), their codebooks,
``corrections.csv``, ``manifest.json``, ``truth.json`` and ``planted_defects.json``
(``docs/synthetic.md``).
"""

from __future__ import annotations

import time
from pathlib import Path

from ctip_research.config import Params
from ctip_research.log import get_logger
from ctip_research.synth import generate_survey
from ctip_research.synth.raw import write_raw_files

__all__ = ["SYNTH_DIR", "run_synth"]

#: Directory of the synthetic raw layer, under ``paths.raw``.
SYNTH_DIR = "synthetic"

log = get_logger("synth")


def run_synth(params: Params) -> None:
    """Generate the synthetic survey and write its raw files, codebooks and ground truth."""
    t0 = time.perf_counter()
    survey = generate_survey(params.synth, hmac_key=params.privacy.demo_key)
    log.info(
        "generated %d households in wave 1, %d in wave 2 (seed %d) in %.1f s",
        (survey.households["wave"] == 1).sum(),
        (survey.households["wave"] == 2).sum(),
        params.synth.seed,
        time.perf_counter() - t0,
    )
    outdir = Path(params.paths.raw) / SYNTH_DIR
    record = write_raw_files(survey, outdir)
    log.info(
        "wrote %s (%d planted defects) in %.1f s",
        outdir,
        len(record["defects"]),
        time.perf_counter() - t0,
    )
