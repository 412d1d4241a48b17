"""The calibration sheet (``docs/synthetic.md``, 'Calibration') checked against a generated survey.

:func:`calibration_table` recomputes each calibrated share, median or mean from the canonical
tables (both waves, weighted with ``weight_household``) and compares it with its target and
tolerance. The tolerances are sized for a large draw (about 2,000 households per province).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

import numpy as np
import pandas as pd

from ctip_research import literals as L
from ctip_research.config.synth import SynthParams

if TYPE_CHECKING:  # pragma: no cover
    from ctip_research.synth.generate import SyntheticSurvey

__all__ = ["calibration_table"]


def _wshare(mask: pd.Series, w: pd.Series) -> float:
    m = mask.astype(float).to_numpy()
    ww = w.astype(float).to_numpy()
    return float((m * ww).sum() / ww.sum()) if ww.sum() > 0 else float("nan")


def _wquantile(x: pd.Series, w: pd.Series, q: float) -> float:
    xv = x.astype(float).to_numpy()
    wv = w.astype(float).to_numpy()
    order = np.argsort(xv, kind="stable")
    cw = np.cumsum(wv[order])
    return float(xv[order][np.searchsorted(cw, q * cw[-1])])


def _wmean(x: pd.Series, w: pd.Series) -> float:
    xv = x.astype(float).to_numpy()
    wv = w.astype(float).to_numpy()
    return float((xv * wv).sum() / wv.sum())


class _Add(Protocol):
    """Appends one row to the calibration sheet."""

    def __call__(
        self, name: str, target: float, tol: float, value: float, basis: str, rel: bool = False
    ) -> None: ...


def calibration_table(survey: SyntheticSurvey) -> pd.DataFrame:
    """Return the calibration sheet with the generated values.

    Columns ``variable``, ``target``, ``tolerance`` (absolute, or relative when
    ``relative`` is true), ``generated``, ``within_tolerance`` and ``basis`` (the source tag of
    the calibration sheet).

    Examples
    --------
    >>> from ctip_research.config import load_params
    >>> from ctip_research.synth.generate import generate_survey
    >>> params = load_params("params.yaml")
    >>> small = params.synth.design.model_copy(update={"households_per_province": 20})
    >>> table = calibration_table(generate_survey(params.synth.model_copy(update={"design": small})))
    >>> list(table.columns[:3])  # on a large draw every row is within tolerance (tests)
    ['variable', 'target', 'tolerance']
    """
    p = survey.params
    hh = survey.households.copy()
    w = hh["weight_household"]
    key = ["household_id", "wave"]
    wts = hh[[*key, "weight_household", "province_code", "is_urban"]]
    loans = survey.loans.merge(wts, on=key, how="left")
    ep = survey.migration_episodes.merge(wts, on=key, how="left")
    cur = ep[~ep["has_returned"].astype(bool)]
    intl = cur[cur["destination_country"] != "KH"]
    dom = cur[cur["destination_country"] == "KH"]
    rural = ~hh["is_urban"].astype(bool)
    rows: list[tuple[str, float, float, bool, float, str]] = []

    def add(
        name: str, target: float, tol: float, value: float, basis: str, rel: bool = False
    ) -> None:
        rows.append((name, target, tol, rel, value, basis))

    _household_rows(add, p, hh, w, rural)
    _income_rows(add, hh, w, rural)
    hh = _mfi_rows(add, p, hh, w, rural, loans, key)
    hh = _debt_service_rows(add, hh, w, loans, key)
    _migration_rows(add, p, hh, w, intl, key)
    _outcome_rows(add, survey, hh, key, intl, dom)
    _instrument_rows(add, survey)
    out = pd.DataFrame(
        rows, columns=["variable", "target", "tolerance", "relative", "generated", "basis"]
    )
    dev = (out["generated"] - out["target"]).abs()
    limit = np.where(out["relative"], out["tolerance"] * out["target"].abs(), out["tolerance"])
    out["within_tolerance"] = dev <= limit
    return out[
        ["variable", "target", "tolerance", "relative", "generated", "within_tolerance", "basis"]
    ]


def _forced(d: pd.DataFrame) -> pd.Series:
    """Forced labour (ICLS): an involuntariness and a coercion indicator."""
    inv = d[list(L.ILO_INVOLUNTARY)].astype(bool).any(axis=1)
    coe = d[list(L.ILO_COERCION)].astype(bool).any(axis=1)
    return inv & coe


def _risky(d: pd.DataFrame) -> pd.Series:
    """Risky migration: irregular, informal broker or any ILO indicator."""
    return (
        d["is_irregular"].astype(bool)
        | d["used_informal_broker"].astype(bool)
        | d[list(L.ILO_INDICATORS)].astype(bool).any(axis=1)
    )


def _household_rows(
    add: _Add, p: SynthParams, hh: pd.DataFrame, w: pd.Series, rural: pd.Series
) -> None:
    """Household size, female heads, urban shares, land and land titles."""
    add("household size, mean", 4.4, 0.15, _wmean(hh["household_size"], w), "[R] Census 2019")
    add(
        "household size, mean rural",
        4.5,
        0.15,
        _wmean(hh.loc[rural, "household_size"], w[rural]),
        "[R] Census 2019",
    )
    add(
        "household size, mean urban",
        4.2,
        0.15,
        _wmean(hh.loc[~rural, "household_size"], w[~rural]),
        "[R] Census 2019",
    )
    add("female head", 0.24, 0.02, _wshare(hh["head_is_female"], w), "[K]")
    for code, cal in p.provinces.items():
        sel = hh["province_code"] == code
        add(
            f"urban share, {L.PROVINCES[code]}",
            cal.urban_share,
            0.05,
            _wshare(hh.loc[sel, "is_urban"], w[sel]),
            "[R] Census 2019 / [A]",
        )
    add(
        "landless (rural)", 0.20, 0.02, _wshare(hh.loc[rural, "land_agri_ha"] == 0, w[rural]), "[R]"
    )
    landed = hh["land_agri_ha"] > 0
    add(
        "land of landholders, median ha",
        0.9,
        0.1,
        _wquantile(hh.loc[landed, "land_agri_ha"], w[landed], 0.5),
        "[R]",
        rel=True,
    )
    for code, cal in p.provinces.items():
        sel = landed & (hh["province_code"] == code)
        add(
            f"hard title given land, {L.PROVINCES[code]}",
            cal.land_title_rate,
            0.06,
            _wshare(hh.loc[sel, "has_land_title"], w[sel]),
            "[K]/[A]",
        )


def _income_rows(add: _Add, hh: pd.DataFrame, w: pd.Series, rural: pd.Series) -> None:
    """Income medians and dispersion."""
    inc = hh["income_annual_usd"]
    add(
        "annual income, median rural (USD)",
        4400.0,
        0.10,
        _wquantile(inc[rural], w[rural], 0.5),
        "[R] LICADHO & Equitable Cambodia 2023",
        rel=True,
    )
    add(
        "annual income, urban / rural medians",
        1.6,
        0.10,
        _wquantile(inc[~rural], w[~rural], 0.5) / _wquantile(inc[rural], w[rural], 0.5),
        "[A]",
        rel=True,
    )
    lr = np.log(inc[rural])
    add(
        "annual income, log-sd rural",
        0.7,
        0.1,
        float(np.sqrt(_wmean((lr - _wmean(lr, w[rural])) ** 2, w[rural]))),
        "[R]",
    )


def _mfi_rows(
    add: _Add,
    p: SynthParams,
    hh: pd.DataFrame,
    w: pd.Series,
    rural: pd.Series,
    loans: pd.DataFrame,
    key: list[str],
) -> pd.DataFrame:
    """MFI take-up, loans per borrower and loan terms; return ``hh`` with ``n_mfi``."""
    mfi_hh = loans[loans["lender_type"] == "mfi"].groupby(key).size().rename("n_mfi").reset_index()
    hh = hh.merge(mfi_hh, on=key, how="left")
    hh["n_mfi"] = hh["n_mfi"].fillna(0)
    has_mfi = hh["n_mfi"] > 0
    for code, cal in p.provinces.items():
        sel = rural & (hh["province_code"] == code)
        if sel.sum() >= 300:
            add(
                f"MFI loan, rural {L.PROVINCES[code]}",
                cal.mfi_rate_rural,
                0.04,
                _wshare(has_mfi[sel], w[sel]),
                "[R] 30% formal borrowing 2017",
            )
    add(
        "MFI loan, urban", p.credit.mfi_rate_urban, 0.04, _wshare(has_mfi[~rural], w[~rural]), "[R]"
    )
    add("MFI loan, rural (all provinces)", 0.40, 0.06, _wshare(has_mfi[rural], w[rural]), "[R]")
    nm = hh.loc[has_mfi, "n_mfi"]
    wm = w[has_mfi]
    add(
        "MFI loans given any: 1",
        0.72,
        0.03,
        _wshare(nm == 1, wm),
        "[R] Credit Bureau Cambodia 2016",
    )
    add("MFI loans given any: 2", 0.20, 0.03, _wshare(nm == 2, wm), "[R]")
    add("MFI loans given any: 3+", 0.08, 0.03, _wshare(nm >= 3, wm), "[R]")
    ml = loans[loans["lender_type"] == "mfi"]
    add(
        "MFI principal, median (USD)",
        2800.0,
        0.10,
        _wquantile(ml["principal_usd"], ml["weight_household"], 0.5),
        "[R] NBC/CMA",
        rel=True,
    )
    add(
        "MFI principal, mean (USD)",
        4200.0,
        0.15,
        _wmean(ml["principal_usd"], ml["weight_household"]),
        "[R] USD 3,250-4,280",
        rel=True,
    )
    add(
        "MFI interest at the 18% cap",
        0.80,
        0.03,
        _wshare((ml["interest_rate_annual"] - 0.18).abs() < 1e-9, ml["weight_household"]),
        "[R] NBC",
    )
    return hh


def _debt_service_rows(
    add: _Add, hh: pd.DataFrame, w: pd.Series, loans: pd.DataFrame, key: list[str]
) -> pd.DataFrame:
    """Informal loans, debt service and coping; return ``hh`` with the instalments merged."""
    has_mfi = hh["n_mfi"] > 0
    wm = w[has_mfi]
    inf = loans[loans["lender_type"].isin(L.INFORMAL_LENDERS)].groupby(key).size().rename("n_inf")
    hh = hh.merge(inf.reset_index(), on=key, how="left")
    has_inf = hh["n_inf"].fillna(0) > 0
    add("informal loan", 0.15, 0.03, _wshare(has_inf, w), "[R]/[A]")
    inst = loans.groupby(key)["instalment_monthly_usd"].sum().rename("inst").reset_index()
    formal = loans[loans["lender_type"].isin(L.FORMAL_LENDERS)]
    finst = formal.groupby(key)["instalment_monthly_usd"].sum().rename("finst").reset_index()
    hh = hh.merge(inst, on=key, how="left").merge(finst, on=key, how="left")
    hh["dsr"] = hh["inst"].fillna(0) / (hh["income_annual_usd"] / 12)
    hh["fdsr"] = hh["finst"].fillna(0) / (hh["income_annual_usd"] / 12)
    hb = hh["fdsr"] > 0.5
    add(
        "informal loan given formal debt service > half of income",
        0.25,
        0.05,
        _wshare(has_inf[hb], w[hb]),
        "[R]/[A]",
    )
    dm = hh.loc[has_mfi, "dsr"]
    add(
        "debt service / income, MFI borrowers: median",
        0.375,
        0.05,
        _wquantile(dm, wm, 0.5),
        "[R] Liv 2013; LICADHO 2019",
    )
    add("debt service / income, MFI borrowers: P(> 0.5)", 0.35, 0.05, _wshare(dm > 0.5, wm), "[R]")
    add("debt service / income, MFI borrowers: P(> 0.7)", 0.25, 0.05, _wshare(dm > 0.7, wm), "[R]")
    add("debt service / income, MFI borrowers: P(> 1.0)", 0.10, 0.04, _wshare(dm > 1.0, wm), "[R]")
    debt = hh["inst"].notna()
    for name, target in (
        ("cope_reduce_food", 0.25),
        ("cope_new_loan_to_repay", 0.20),
        ("cope_migrate_to_repay", 0.10),
        ("cope_sold_land", 0.06),
    ):
        add(f"{name} given debt", target, 0.03, _wshare(hh.loc[debt, name], w[debt]), "[R]/[A]")
    return hh


def _migration_rows(
    add: _Add,
    p: SynthParams,
    hh: pd.DataFrame,
    w: pd.Series,
    intl: pd.DataFrame,
    key: list[str],
) -> None:
    """International migration rates, destinations, channels, brokers and costs."""
    has_intl = hh.set_index(key).index.isin(intl.set_index(key).index)
    for code, cal in p.provinces.items():
        in_prov = (hh["province_code"] == code).to_numpy()
        add(
            f"international migrant, {L.PROVINCES[code]}",
            cal.intl_migration_rate,
            0.03,
            _wshare(pd.Series(has_intl[in_prov]), w[in_prov].reset_index(drop=True)),
            "[R]/[A]",
        )
    iw = intl["weight_household"]
    for dest, target in (("TH", 0.90), ("KR", 0.04), ("MY", 0.03), ("JP", 0.02)):
        add(
            f"destination {dest}",
            target,
            0.02,
            _wshare(intl["destination_country"] == dest, iw),
            "[R]",
        )
    th = intl[intl["destination_country"] == "TH"]
    add(
        "irregular given Thailand",
        0.40,
        0.05,
        _wshare(th["is_irregular"], th["weight_household"]),
        "[R]",
    )
    thb = th[th["province_code"].isin(L.BORDER_PROVINCES)]
    tho = th[~th["province_code"].isin(L.BORDER_PROVINCES)]
    add(
        "irregular given Thailand, border provinces",
        0.45,
        0.05,
        _wshare(thb["is_irregular"], thb["weight_household"]),
        "[R]",
    )
    add(
        "irregular given Thailand, other provinces",
        0.30,
        0.05,
        _wshare(tho["is_irregular"], tho["weight_household"]),
        "[R]",
    )
    irr = intl["is_irregular"].astype(bool)
    add(
        "informal broker given irregular",
        0.65,
        0.05,
        _wshare(intl.loc[irr, "used_informal_broker"], iw[irr]),
        "[A]",
    )
    add(
        "informal broker given regular",
        0.15,
        0.04,
        _wshare(intl.loc[~irr, "used_informal_broker"], iw[~irr]),
        "[A]",
    )
    routes: dict[str, Callable[[pd.DataFrame], pd.Series]] = {
        "Thailand irregular": lambda d: (
            (d["destination_country"] == "TH") & d["is_irregular"].astype(bool)
        ),
        "Thailand MOU": lambda d: (d["destination_country"] == "TH") & (d["channel"] == "mou"),
        "Malaysia": lambda d: d["destination_country"] == "MY",
        "South Korea": lambda d: d["destination_country"] == "KR",
    }
    for (label, sel_fn), target in zip(routes.items(), (180.0, 350.0, 900.0, 1500.0), strict=True):
        sel = sel_fn(intl)
        if sel.sum() >= 20:
            add(
                f"migration cost, median {label} (USD)",
                target,
                0.15,
                float(intl.loc[sel, "migration_cost_usd"].median()),
                "[R]",
                rel=True,
            )


def _outcome_rows(
    add: _Add,
    survey: SyntheticSurvey,
    hh: pd.DataFrame,
    key: list[str],
    intl: pd.DataFrame,
    dom: pd.DataFrame,
) -> None:
    """Remittances, wages, forced labour and risky migration."""
    iw = intl["weight_household"]
    lat = survey.latent
    est_hh = lat.loc[lat["established_migrant"], ["household_id", "wave"]]
    rem = hh.merge(est_hh, on=key, how="inner")
    rw = rem["weight_household"]
    add(
        "remittances, migrant households: share sending nothing",
        0.15,
        0.04,
        _wshare(rem["income_remittances_usd"] == 0, rw),
        "[R] IOM 2019",
    )
    pos = rem["income_remittances_usd"] > 0
    add(
        "remittances, migrant households: median (USD)",
        1000.0,
        0.15,
        _wquantile(rem.loc[pos, "income_remittances_usd"], rw[pos], 0.5),
        "[R] IOM 2019",
        rel=True,
    )
    add(
        "paid below minimum wage given international migrant",
        0.33,
        0.04,
        _wshare(intl["paid_below_min_wage"], iw),
        "[R] IOM 2019",
    )

    add(
        "forced labour (ICLS) given international migrant",
        0.045,
        0.015,
        _wshare(_forced(intl), iw),
        "[R] ILO/Walk Free/IOM 2022; [A]",
    )
    add(
        "forced labour (ICLS) given domestic migrant",
        0.01,
        0.01,
        _wshare(_forced(dom), dom["weight_household"]),
        "[A]",
    )
    add("risky migration given international migrant", 0.50, 0.05, _wshare(_risky(intl), iw), "[A]")


def _instrument_rows(add: _Add, survey: SyntheticSurvey) -> None:
    """Distance to the nearest MFI branch and branch density (wave 1)."""
    w1 = survey.households[survey.households["wave"] == 1]
    add(
        "distance to MFI branch, median km",
        4.0,
        0.5,
        float(w1["dist_mfi_branch_km"].median()),
        "[A]",
    )
    r1 = w1[~w1["is_urban"].astype(bool)]
    add(
        "branches per 1,000 households, mean (rural, wave 1)",
        1.0,
        0.1,
        float(r1["mfi_branches_per_1000hh"].mean()),
        "[A]",
    )
    add(
        "branches per 1,000 households, sd (rural, wave 1)",
        0.5,
        0.1,
        float(r1["mfi_branches_per_1000hh"].std()),
        "[A]",
    )
