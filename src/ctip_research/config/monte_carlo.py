"""``monte_carlo``: parameters of the ``ctip monte-carlo`` stage (validation across worlds).

Every draw runs the pipeline's own code on one synthetic survey: ``synth`` (raw files written),
``ingest``, ``clean``, ``features`` and the fit of every model of ``fit.validation.estimands``;
the estimates are compared with that draw's truth. ``docs/synthetic.md`` ("Scenarios") documents
the worlds and the verdict rule.
"""

from __future__ import annotations

from pydantic import Field

from ctip_research.config.base import Section


class MonteCarloParams(Section):
    """Scenarios, number and size of the draws, and the rule that calls an estimator failing."""

    scenarios: list[str] = Field(
        min_length=1,
        description="Worlds drawn: 'default' and names of synth.scenarios, in report order.",
    )
    draws: int = Field(ge=2, description="Draws per scenario (the same seeds in every scenario).")
    households_per_province: int = Field(
        ge=20, description="synth.design.households_per_province of every draw."
    )
    seed: int = Field(
        ge=0, description="Base seed; draw seeds are spawned from it (numpy SeedSequence)."
    )
    n_jobs: int = Field(
        description="Parallel draws (joblib processes; -1 = all cores). Results do not depend on it."
    )
    max_bias_over_se: float = Field(
        gt=0,
        description="An estimator fails when its mean bias exceeds this many mean standard "
        "errors and the draws tell that bias from chance (else it is possibly_biased).",
    )
    mc_alpha: float = Field(
        gt=0,
        lt=1,
        description="Level of the Monte Carlo tests: the t-test of zero bias behind a failure, "
        "and the exact binomial test of the intervals' nominal coverage (a rejection fails the "
        "estimator: standard errors too small).",
    )
    min_power: float = Field(
        ge=0,
        le=1,
        description="An estimator that does not fail but rejects a zero effect in fewer than this "
        "share of draws is 'uninformative' (it covers the truth because its interval is wide).",
    )
