"""Design-based models 1 and 2, on :class:`ctip_research.survey.SurveyDesign`.

1. :func:`estimate_indicators`: indicator means by domain (province, debt status), with the full
   design and a domain indicator, design effects and design degrees of freedom.
2. :func:`fit_survey_glm_model`: survey-weighted logit / probit (pseudo-maximum likelihood, Taylor
   linearised errors with strata, PSUs and FPC), reported as average marginal effects with
   design-based delta-method errors (Stata ``svy: logit`` + ``margins, dydx() vce(unconditional)``).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ctip_research.config.fit import DesignParams
from ctip_research.models.econometric import model_info
from ctip_research.models.results import DescriptiveResult, RegressionResult, make_terms
from ctip_research.models.specs import ModelSpec, SpecError, select_sample

__all__ = ["estimate_indicators", "fit_survey_glm_model", "make_design"]


def make_design(data: pd.DataFrame, design: DesignParams, *, alpha: float = 0.05) -> Any:
    """Bind ``data`` to the survey design declared in ``fit.design``.

    Examples
    --------
    >>> from ctip_research.models.simulate import simulate_households
    >>> from ctip_research.config.fit import DesignParams
    >>> df = simulate_households(n_villages=20, households_per_village=5, seed=1)
    >>> d = make_design(df, DesignParams(weight="weight_household", strata=None, psu="psu_id",
    ...                                  fpc=None, lonely_psu="adjust"))
    >>> d.n_psu
    20
    """
    from ctip_research.survey import SurveyDesign

    return SurveyDesign(
        data,
        weight=design.weight,
        strata=design.strata,
        psu=design.psu,
        fpc=design.fpc,
        lonely_psu=design.lonely_psu,
        conf_level=1 - alpha,
    )


def estimate_indicators(
    data: pd.DataFrame,
    design: DesignParams,
    *,
    indicators: list[str],
    domains: list[str],
    alpha: float = 0.05,
) -> DescriptiveResult:
    """Design-based means of 0/1 indicators overall and by each domain variable (model 1).

    Returns a :class:`DescriptiveResult` whose table has ``indicator, domain, level, estimate,
    std_error, conf_low, conf_high, deff, df, n_obs`` (``domain`` = ``all`` for the whole
    population).
    """
    missing = [c for c in [*indicators, *domains] if c not in data.columns]
    if missing:
        raise SpecError(f"descriptive estimates: columns not in the analysis table: {missing}")
    frame = data.copy()
    for col in indicators:
        frame[col] = frame[col].astype("float")
    svy = make_design(frame, design, alpha=alpha)
    rows = []
    for ind in indicators:
        est = svy.mean(ind)
        rows.append(
            {
                "indicator": ind,
                "domain": "all",
                "level": "all",
                "estimate": est.estimate,
                "std_error": est.std_error,
                "conf_low": est.conf_low,
                "conf_high": est.conf_high,
                "deff": est.deff,
                "df": est.df,
                "n_obs": int(frame[ind].notna().sum()),
            }
        )
        for dom in domains:
            tab = svy.mean(ind, by=dom)
            for r in tab.itertuples(index=False):
                rows.append(
                    {
                        "indicator": ind,
                        "domain": dom,
                        "level": str(getattr(r, dom)),
                        "estimate": r.estimate,
                        "std_error": r.std_error,
                        "conf_low": r.conf_low,
                        "conf_high": r.conf_high,
                        "deff": r.deff,
                        "df": r.df,
                        "n_obs": r.n_obs,
                    }
                )
    return DescriptiveResult(table=pd.DataFrame(rows), design=svy.describe(), n_psu=svy.n_psu)


def _formula(spec: ModelSpec, dummies: list[str]) -> str:
    rhs = [spec.exposure, *spec.controls, *dummies]
    return f"{spec.outcome} ~ " + " + ".join(rhs)


def _fe_dummies(frame: pd.DataFrame, fes: list[str], in_domain: pd.Series) -> list[str]:
    """Add 0/1 columns for the fixed-effect levels present in the domain (first level dropped)."""
    names: list[str] = []
    for fe in fes:
        levels = sorted(frame.loc[in_domain, fe].dropna().astype(str).unique())
        values = frame[fe].astype(str)
        for i, level in enumerate(levels[1:], start=1):
            name = f"__fe_{fe}_{i}"
            frame[name] = (values == level).astype(float)
            names.append(name)
    return names


def fit_survey_glm_model(
    data: pd.DataFrame, spec: ModelSpec, design: DesignParams, *, alpha: float = 0.05
) -> RegressionResult:
    """Survey-weighted logit/probit with average marginal effects (model 2).

    The result's terms are the AMEs (probability scale) of the exposure and the controls, so the
    column lines up with the linear probability models in a table; the log-odds (probit-index)
    coefficients are in ``extra["coefficients"]``. ``spec.weights`` and ``spec.cluster`` are
    ignored: the design (``fit.design``) supplies weights, strata, PSUs and FPC. Rows outside the
    spec's wave/sample stay in the design as a domain (full-design errors).
    """
    design_cols = [c for c in (design.weight, design.strata, design.psu, design.fpc) if c]
    needed = [spec.outcome, spec.exposure, *spec.controls, *spec.fixed_effects, *design_cols]
    missing = [c for c in needed if c not in data.columns]
    if missing:
        raise SpecError(f"model {spec.name}: columns not in the analysis table: {missing}")
    frame = data.copy()
    in_domain = pd.Series(True, index=frame.index)
    if spec.wave is not None:
        in_domain &= frame["wave"] == spec.wave
    if spec.sample:
        try:
            in_domain &= pd.Series(frame.eval(spec.sample), index=frame.index).astype(bool)
        except Exception as exc:
            raise SpecError(f"model {spec.name}: sample query failed: {exc}") from None
    frame["__domain"] = in_domain.astype(bool)
    for col in [spec.outcome, spec.exposure, *spec.controls]:
        if pd.api.types.is_bool_dtype(frame[col]):
            frame[col] = frame[col].astype(float)
    if spec.wave is not None:
        # one wave is one sample of the design: keep its rows only (a wave is not a domain of a
        # single design, each wave was drawn anew)
        frame = frame.loc[frame["wave"] == spec.wave].reset_index(drop=True)
    dummies = _fe_dummies(frame, list(spec.fixed_effects), frame["__domain"])
    svy = make_design(frame, design, alpha=alpha)
    domain = None if bool(frame["__domain"].all()) else "__domain"
    res = svy.glm(_formula(spec, dummies), family="binomial", link=spec.link, domain=domain)
    effects = res.marginal_effects([spec.exposure, *spec.controls])
    me = effects.tidy()
    pattern = r"\[(1\.0|True|T\.1\.0|T\.True)\]$"
    me["term"] = me["term"].str.replace(pattern, "", regex=True)
    covariance = effects.vcov.set_axis(list(me["term"]), axis=0).set_axis(list(me["term"]), axis=1)
    used = select_sample(
        data, spec.model_copy(update={"cluster": design.psu, "weights": design.weight})
    )
    n_psu = int(res.n_psu)
    df_design = float(res.df)
    terms = make_terms(
        list(me["term"]),
        me["estimate"].to_numpy(),
        me["std_error"].to_numpy(),
        df=df_design,
        alpha=alpha,
    )
    coefs = res.tidy()
    coefs = coefs.loc[~coefs["term"].str.startswith("__fe_")]
    return RegressionResult(
        model=spec.name,
        kind=spec.kind,
        outcome=spec.outcome,
        exposure=spec.exposure,
        terms=terms,
        n_obs=int(res.n_obs),
        n_psu=n_psu,
        df_resid=float(len(used) - len(res.params)),
        design=f"{res.design}; {spec.link} AMEs, delta method (design-based), t({df_design:g})",
        fixed_effects=tuple(spec.fixed_effects),
        stats={
            "pseudo_r2": float(res.fit_stats.get("pseudo_r2", float("nan"))),
            "df_design": df_design,
        },
        extra={
            "coefficients": coefs.to_dict(orient="list"),
            "link": spec.link,
            "scale": "average marginal effects (probability)",
        },
        label=spec.label,
        info={
            **model_info(spec, f"Survey {spec.link}, AME"),
            "clustering": f"{design.psu} (design)",
            "weights": design.weight,
            "survey": f"strata={design.strata}, PSU={design.psu}, FPC={design.fpc or 'none'}, "
            "Taylor",
        },
        covariance=covariance,
        df_t=df_design,
        conf_level=1 - alpha,
    )
