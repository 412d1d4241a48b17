"""Distributed execution: the Monte Carlo draws and the risk bootstrap on a Dask cluster give the
local run's results exactly.

The cluster is a ``dask.distributed.LocalCluster`` with 2 worker processes (1 thread each): the
tasks are pickled, shipped to other processes and run there, as on a real cluster. The reference
is the same map run in this process (joblib's sequential path), which is the code the pipeline
has always run; equality is exact (same seeds, same bytes).
"""

from __future__ import annotations

from collections.abc import Iterator
from operator import mul

import pandas as pd
import pytest
from risk_factory import SPEC, simulate_panel

from ctip_research import parallel
from ctip_research.errors import SchedulerError
from ctip_research.parallel import map_tasks, resolve_scheduler
from ctip_research.risk.classifier import build_classifier, make_design_matrix
from ctip_research.risk.evaluate import RiskEvaluation, evaluate_classifier
from ctip_research.risk.folds import cross_validate_weighted, make_psu_folds
from ctip_research.stages.monte_carlo import draw_seeds, run_draws


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """The address of a local Dask scheduler with 2 worker processes."""
    from dask.distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as c:
        yield c.scheduler_address


def _square_minus(x: int, y: int) -> int:
    return x * x - y


def test_scheduler_defaults_to_local_and_reads_the_environment(monkeypatch) -> None:
    monkeypatch.delenv(parallel.SCHEDULER_ENV, raising=False)
    assert resolve_scheduler(None) == "local"
    monkeypatch.setenv(parallel.SCHEDULER_ENV, "tcp://10.1.2.3:8786")
    assert resolve_scheduler(None) == "tcp://10.1.2.3:8786"
    assert resolve_scheduler("local") == "local"  # an explicit option wins


def test_results_come_back_in_task_order_on_the_cluster(cluster) -> None:
    tasks = [(x, x % 3) for x in range(20)]
    expected = [_square_minus(*t) for t in tasks]
    assert map_tasks(_square_minus, tasks, scheduler=cluster, progress=False) == expected
    assert map_tasks(_square_minus, tasks, n_jobs=2, progress=False) == expected


def test_an_unreachable_scheduler_is_a_user_error(monkeypatch) -> None:
    monkeypatch.setattr(parallel, "CONNECT_TIMEOUT", "1s")
    with pytest.raises(SchedulerError, match="no Dask scheduler answered"):
        map_tasks(mul, [(1, 2)], scheduler="tcp://127.0.0.1:9", progress=False)


def test_a_failing_task_raises_its_own_error_from_the_cluster(cluster) -> None:
    with pytest.raises(ZeroDivisionError):
        map_tasks(divmod, [(1, 1), (1, 0)], scheduler=cluster, progress=False)


def _risk(panel: pd.DataFrame, *, scheduler: str, n_jobs: int) -> RiskEvaluation:
    y = panel["has_risky_migration_w2"].astype(int).to_numpy()
    w = panel["weight_household"].to_numpy()
    X = make_design_matrix(panel, SPEC)
    folds = make_psu_folds(y, panel["psu_id"], panel["stratum_id"], n_splits=4, seed=5)
    cv = cross_validate_weighted(build_classifier(SPEC), X, y, w, folds)
    return evaluate_classifier(
        cv,
        X,
        y,
        w,
        psu=panel["psu_id"],
        stratum=panel["stratum_id"],
        subgroups=panel[["province_code"]],
        classifier="logistic",
        top_share=0.2,
        shares=[0.1, 0.2, 0.5, 1.0],
        n_bins=5,
        n_bins_subgroup=2,
        n_bootstrap=80,
        ci_level=0.9,
        seed=5,
        n_permutation_repeats=0,
        n_jobs=n_jobs,
        scheduler=scheduler,
    )


def test_risk_bootstrap_on_the_cluster_equals_the_local_bootstrap(cluster) -> None:
    panel = simulate_panel(seed=3)
    local = _risk(panel, scheduler="local", n_jobs=1)
    remote = _risk(panel, scheduler=cluster, n_jobs=1)
    assert remote.to_dict() == local.to_dict()
    pd.testing.assert_frame_equal(remote.targeting, local.targeting, check_exact=True)
    # the intervals are bootstrap intervals (the comparison is not between two empty tables)
    assert local.cells["roc_auc_low"].notna().any()


@pytest.mark.slow
def test_monte_carlo_on_a_two_worker_cluster_equals_the_local_run(params, cluster) -> None:
    mc = params.monte_carlo.model_copy(update={"households_per_province": 20})
    p = params.model_copy(update={"monte_carlo": mc})
    seed = draw_seeds(mc.seed, 1)[0]
    tasks = [("default", seed), ("weak_instrument", seed)]
    local = run_draws(p, tasks, n_jobs=1, scheduler="local")
    remote = run_draws(p, tasks, scheduler=cluster)
    pd.testing.assert_frame_equal(remote, local, check_exact=True)
    assert list(local["scenario"].unique()) == ["default", "weak_instrument"]
    assert local["estimate"].notna().sum() > 0


def test_cli_stops_with_exit_16_when_no_scheduler_answers(
    params_dict, tmp_path, monkeypatch
) -> None:
    import yaml
    from typer.testing import CliRunner

    from ctip_research.cli import app

    params_dict["paths"] = {k: str(tmp_path / k) for k in ("raw", "interim", "processed")}
    params_dict["monte_carlo"].update(scenarios=["default"], draws=2, households_per_province=20)
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params_dict), encoding="utf-8")
    monkeypatch.setattr(parallel, "CONNECT_TIMEOUT", "1s")
    res = CliRunner().invoke(
        app, ["monte-carlo", "--params", str(path), "--scheduler", "tcp://127.0.0.1:9"]
    )
    assert res.exit_code == SchedulerError.exit_code == 16, res.output
    assert "no Dask scheduler answered at tcp://127.0.0.1:9" in res.output
    assert not (tmp_path / "processed" / "monte_carlo").exists()  # nothing was written
