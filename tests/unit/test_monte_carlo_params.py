"""The parameters of one Monte Carlo draw: the pipeline's analysis choices, the draw's own data."""

from __future__ import annotations

from pathlib import Path

from ctip_research.config import load_params
from ctip_research.stages.monte_carlo import draw_params

REPO = Path(__file__).resolve().parents[2]


def test_a_draw_reads_its_synthetic_files_at_the_generators_rates(tmp_path: Path) -> None:
    params = load_params(REPO / "params.yaml")
    # a researcher's own survey: other sources, another rate table, another corrections log
    data = params.model_dump(mode="python")
    data["ingest"]["sources"] = ["data/raw/mine/w1.codebook.yaml"]
    data["ingest"]["exchange_rates"] = {2021: {"USD": 1.0, "KHR": 4050.0, "THB": 33.0}}
    data["clean"]["corrections_file"] = "data/raw/mine/corrections.csv"
    own = type(params).model_validate(data)

    p = draw_params(own, "weak_instrument", 7, root=tmp_path)
    design = params.synth.design
    assert sorted(p.ingest.exchange_rates) == list(
        range(design.baseline_year, design.endline_year + 1)
    )
    assert {r["KHR"] for r in p.ingest.exchange_rates.values()} == {params.synth.khr_per_usd}
    assert all(Path(s).is_relative_to(tmp_path) for s in p.ingest.sources)
    assert Path(p.clean.corrections_file).is_relative_to(tmp_path)
    # the analysis choices stay the pipeline's
    assert p.clean.outliers == own.clean.outliers and p.fit.models == own.fit.models
    assert (p.synth.scenario, p.synth.seed) == ("weak_instrument", 7)
    # the same draw whatever the researcher's survey: the draw's parameters do not depend on it
    assert draw_params(params, "weak_instrument", 7, root=tmp_path) == p
