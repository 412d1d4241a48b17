"""Blind stream: defects whose answers are written nowhere ingest or clean reads.

Outliers (x10/x100), undocumented special codes, misspelt category labels and riel typed as
dollars in both waves; each one is recorded with its right value (``truth``) for the tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ctip_research import literals as L
from ctip_research.config.synth import SynthParams
from ctip_research.synth.rawlayout import (
    CORRECTION_COLUMNS,
    MISSPELT_PROVINCES,
    W1_FILE,
    W1_MAIN,
    W1_SOURCE,
    W2_DIR,
    W2_SOURCE,
    RawExport,
    pick_rows,
    record_defect,
)

__all__ = ["plant_w1_blind", "plant_w2_blind"]

#: Undocumented special codes by (sheet or file, raw column): the codebooks list only -99/-98
#: (Kobo) and .a/.b (Stata). Conventions seen in survey exports: 98/99 for an age not known or
#: refused, -97 "not applicable", -1, runs of nines for an amount not known, an undeclared
#: Stata extended missing value ``.c``.
_BLIND_CODES_W1: dict[tuple[str, str], tuple[int, ...]] = {
    (W1_MAIN, "hh/head_age"): (98, 99),
    (W1_MAIN, "inc/farm_khr"): (-97, 999999),
    (W1_MAIN, "inc/wages_khr"): (-999, 9999999),
    (W1_MAIN, "land/agri_land_m2"): (-97, 99999),
    ("migration_repeat", "mig/cost_usd"): (-97, 9999),
}
_BLIND_CODES_W2: dict[tuple[str, str], tuple[int | str, ...]] = {
    ("hh", "q205_headage"): (98, 99, "c"),
    ("hh", "q401_farm_usd"): (-999, 99999),
    ("hh", "q402_wage_usd"): (-97, 9999),
    ("hh", "q301_land_ha"): (-1, 99),
    ("migration", "cost_thb"): (-97, 99999),
}
#: Blind outliers (an extra zero or two typed) by defect class: totals, income components
#: (one component of the record), loan amounts, migration cost.
_BLIND_FACTORS = (10, 100)
_W1_COMPONENTS = (
    "inc/farm_khr",
    "inc/wages_khr",
    "inc/business_khr",
    "inc/remittances_khr",
    "inc/other_khr",
)
_W2_COMPONENTS = (
    "q401_farm_usd",
    "q402_wage_usd",
    "q403_busi_usd",
    "q404_remit_usd",
    "q405_other_usd",
)
_BLIND_OUTLIERS_W1: dict[str, tuple[tuple[str, str], ...]] = {
    "outlier_total": ((W1_MAIN, "inc/total_khr"), (W1_MAIN, "assets/value_khr")),
    "outlier_loan": (
        ("loan_repeat", "loan/amount"),
        ("loan_repeat", "loan/instalment"),
        ("loan_repeat", "loan/outstanding"),
    ),
    "outlier_migration_cost": (("migration_repeat", "mig/cost_usd"),),
}
_BLIND_OUTLIERS_W2: dict[str, tuple[tuple[str, str], ...]] = {
    "outlier_total": (("hh", "q406_total_usd"), ("hh", "q410_assets_usd")),
    "outlier_loan": (("loans", "amt"), ("loans", "inst"), ("loans", "outst")),
    "outlier_migration_cost": (("migration", "cost_thb"),),
}
#: Category columns of the Kobo export misspelt in the blind stream (rate ``misspelt_label``;
#: provinces at ``misspelt_province``).
_BLIND_LABELS_W1: dict[str, tuple[str, ...]] = {
    W1_MAIN: ("hh/province",),
    "hh_roster": ("hh_roster/member_relation",),
    "loan_repeat": ("loan/lender", "loan/purpose"),
    "migration_repeat": ("mig/country", "mig/sector"),
}
_VOWELS = "aeiou"


def _typo(label: str, rng: np.random.Generator, taken: set[str]) -> str:
    """One keying slip in ``label``: a letter dropped, doubled, swapped with the next, a vowel
    changed, the case changed, or a space or underscore dropped or swapped.
    """
    for _ in range(50):
        op = int(rng.integers(0, 6))
        letters = [i for i, ch in enumerate(label) if ch.isalpha()]
        i = int(letters[int(rng.integers(0, len(letters)))])
        if op == 0 and len(letters) > 3:
            out = label[:i] + label[i + 1 :]
        elif op == 1:
            out = label[:i] + label[i] + label[i:]
        elif op == 2 and i + 1 < len(label) and label[i + 1].isalpha():
            out = label[:i] + label[i + 1] + label[i] + label[i + 2 :]
        elif op == 3 and label[i].lower() in _VOWELS:
            other = [v for v in _VOWELS if v != label[i].lower()]
            out = label[:i] + other[int(rng.integers(0, len(other)))] + label[i + 1 :]
        elif op == 4:
            out = label.lower() if label != label.lower() else label.capitalize()
        elif op == 5 and (" " in label or "_" in label):
            sep = " " if " " in label else "_"
            out = label.replace(sep, "", 1) if rng.random() < 0.5 else label.replace(sep, "-", 1)
        else:
            continue
        if out != label and out.strip() == out and out not in taken:
            return out
    return label.upper() if label.upper() not in taken else label + label[-1]


def _blind_pick(
    rng: np.random.Generator, values: np.ndarray, rate: float, n: int, used: set[int]
) -> np.ndarray:
    """``rate * n`` rows among the positive values of ``values`` not used by another defect."""
    num = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(float)
    cand = np.asarray([i for i in np.flatnonzero(num > 0) if i not in used], dtype=np.int64)
    return pick_rows(rng, cand, rate * n / max(len(cand), 1))


_W1_TABLES = {
    W1_MAIN: "households",
    "hh_roster": "members",
    "loan_repeat": "loans",
    "migration_repeat": "migration_episodes",
}


@dataclass(frozen=True)
class _W1Blind:
    """What the wave-1 blind steps share: the sheets, where to record and the rows already used."""

    ex: RawExport
    sheets: dict[str, pd.DataFrame]
    first: int
    raw_ids: np.ndarray
    by_index: pd.Series
    used: dict[str, set[int]]

    def raw_id(self, sheet: str, r: int) -> Any:
        """Raw household id of data row ``r`` of ``sheet`` (repeat rows: of their parent)."""
        if sheet == W1_MAIN:
            return self.raw_ids[r]
        return self.by_index.get(self.sheets[sheet]["_parent_index"].iat[r])

    def record(self, sheet: str, r: int, col: str, defect: str, truth: Any) -> None:
        """Record one blind defect with its right value and mark its row used."""
        self.used[sheet].add(int(r))
        record_defect(
            self.ex,
            W1_SOURCE,
            W1_FILE,
            sheet,
            r + self.first,
            col,
            defect,
            _W1_TABLES[sheet],
            self.raw_id(sheet, r),
            truth,
        )


def plant_w1_blind(
    p: SynthParams, sheets: dict[str, pd.DataFrame], rng: np.random.Generator, ex: RawExport
) -> None:
    """Blind stream, wave 1: outliers (x10/x100) in totals, components, loan amounts and
    migration cost; undocumented special codes; misspelt category labels; riel typed as
    dollars. None of them is written into the codebook or the corrections log.
    """
    dp = p.defects
    first = 1 if p.output_format == "parquet" else 2
    main = sheets[W1_MAIN]
    at = _W1Blind(
        ex,
        sheets,
        first,
        main["hh/hhid"].to_numpy(),
        main.set_index("_index")["hh/hhid"],
        {name: set() for name in sheets},
    )
    _blind_w1_outliers(at, rng, dp.outlier)
    _blind_w1_components(at, main, rng, dp.outlier)
    _blind_w1_codes(at, rng, dp.special_code)
    for sheet, cols in _BLIND_LABELS_W1.items():
        rate = dp.misspelt_province if sheet == W1_MAIN else dp.misspelt_label
        for col in cols:
            _blind_w1_labels(at, sheet, col, rng, rate)
    _blind_w1_riel(at, sheets["loan_repeat"], rng, dp.riel_typed_as_dollars)
    ex.corrections = pd.DataFrame(columns=CORRECTION_COLUMNS)


def _blind_w1_outliers(at: _W1Blind, rng: np.random.Generator, rate: float) -> None:
    """Totals, loan amounts and migration cost multiplied by 10 or 100."""
    for defect, cells in _BLIND_OUTLIERS_W1.items():
        for sheet, col in cells:
            df = at.sheets[sheet]
            rows = _blind_pick(rng, df[col].to_numpy(), rate, len(df), at.used[sheet])
            factors = rng.choice(_BLIND_FACTORS, len(rows))
            arr = df[col].to_numpy().copy()
            arr[rows] = arr[rows] * factors
            df[col] = arr
            for r, f in zip(rows, factors, strict=True):
                at.record(sheet, r, col, defect, int(f))


def _blind_w1_components(
    at: _W1Blind, main: pd.DataFrame, rng: np.random.Generator, rate: float
) -> None:
    """Income components: one positive component of the record multiplied by 10 or 100."""
    parts = main.loc[:, list(_W1_COMPONENTS)].to_numpy(float)
    rows = _blind_pick(rng, parts.max(axis=1), rate, len(main), at.used[W1_MAIN])
    for r in rows:
        positive = np.flatnonzero(parts[r] > 0)
        col = _W1_COMPONENTS[int(positive[int(rng.integers(0, len(positive)))])]
        f = int(rng.choice(_BLIND_FACTORS))
        main.loc[r, col] = main.loc[r, col] * f
        at.record(W1_MAIN, r, col, "outlier_component", f)


def _blind_w1_codes(at: _W1Blind, rng: np.random.Generator, rate: float) -> None:
    """Special codes the codebook does not declare."""
    for (sheet, col), codes in _BLIND_CODES_W1.items():
        df = at.sheets[sheet]
        used = at.used[sheet]
        cand = np.asarray([i for i in range(len(df)) if i not in used], dtype=np.int64)
        rows = pick_rows(rng, cand, rate * len(df) / max(len(cand), 1))
        picked = np.asarray(codes, dtype=object)[rng.integers(0, len(codes), len(rows))]
        arr = df[col].to_numpy(object).copy()
        arr[rows] = picked
        df[col] = pd.to_numeric(pd.Series(arr)).to_numpy()
        for r, c in zip(rows, picked, strict=True):
            at.record(sheet, r, col, "special_code_undocumented", int(c))


def _blind_w1_labels(
    at: _W1Blind, sheet: str, col: str, rng: np.random.Generator, rate: float
) -> None:
    """Category labels of one column misspelt (provinces: half in a known misspelling)."""
    df = at.sheets[sheet]
    values = df[col].to_numpy(object).copy()
    taken = {str(v) for v in pd.unique(values) if isinstance(v, str)}
    cand = np.asarray(
        [
            i
            for i in range(len(df))
            if i not in at.used[sheet] and isinstance(values[i], str) and values[i]
        ],
        dtype=np.int64,
    )
    rows = pick_rows(rng, cand, rate * len(df) / max(len(cand), 1))
    for r in rows:
        right = str(values[r])
        code = next((k for k, v in L.PROVINCES.items() if v == right), None)
        known = [v for v in MISSPELT_PROVINCES.get(code or -1, ()) if v.strip() == v and v != right]
        if col == "hh/province" and known and rng.random() < 0.5:
            values[r] = known[int(rng.integers(0, len(known)))]
        else:
            values[r] = _typo(right, rng, taken)
        at.record(sheet, r, col, "misspelt_label", right)
    df[col] = values


def _blind_w1_riel(
    at: _W1Blind, loans: pd.DataFrame, rng: np.random.Generator, rate: float
) -> None:
    """Riel loans recorded as dollars (no correction in the log)."""
    riel = np.asarray(
        [
            i
            for i in np.flatnonzero(loans["loan/currency"].to_numpy() == "riel")
            if i not in at.used["loan_repeat"]
        ],
        dtype=np.int64,
    )
    n_riel = int(np.sum(loans["loan/currency"].to_numpy() == "riel"))
    rows = pick_rows(rng, riel, rate * n_riel / max(len(riel), 1))
    cur = loans["loan/currency"].to_numpy(object).copy()
    cur[rows] = "usd"
    loans["loan/currency"] = cur
    for r in rows:
        at.record("loan_repeat", r, "loan/currency", "riel_typed_as_dollars", "riel")


def plant_w2_blind(
    p: SynthParams, files: dict[str, pd.DataFrame], rng: np.random.Generator, ex: RawExport
) -> None:
    """Blind stream, wave 2: as wave 1 (no text labels: the firm's files are coded), with
    undeclared negative and repeated-nine codes and an undeclared Stata ``.c``.
    """
    dp = p.defects
    table_of = {
        "hh": "households",
        "members": "members",
        "loans": "loans",
        "migration": "migration_episodes",
    }
    used: dict[str, set[int]] = {name: set() for name in files}

    def record(name: str, r: int, col: str, defect: str, truth: Any) -> None:
        """Record one blind defect of file ``name`` with its right value and mark its row used."""
        used[name].add(int(r))
        record_defect(
            ex,
            W2_SOURCE,
            f"{W2_DIR}/{name}.dta",
            None,
            r + 1,
            col,
            defect,
            table_of[name],
            files[name]["hhid"].iat[r],
            truth,
        )

    for defect, cells in _BLIND_OUTLIERS_W2.items():
        for name, col in cells:
            df = files[name]
            rows = _blind_pick(rng, df[col].to_numpy(), dp.outlier, len(df), used[name])
            factors = rng.choice(_BLIND_FACTORS, len(rows))
            arr = df[col].to_numpy(float).copy()
            arr[rows] = arr[rows] * factors
            df[col] = arr
            for r, f in zip(rows, factors, strict=True):
                record(name, r, col, defect, int(f))
    main = files["hh"]
    parts = main.loc[:, list(_W2_COMPONENTS)].to_numpy(float)
    rows = _blind_pick(rng, parts.max(axis=1), dp.outlier, len(main), used["hh"])
    for r in rows:
        positive = np.flatnonzero(parts[r] > 0)
        col = _W2_COMPONENTS[int(positive[int(rng.integers(0, len(positive)))])]
        f = int(rng.choice(_BLIND_FACTORS))
        main.loc[r, col] = main.loc[r, col] * f
        record("hh", r, col, "outlier_component", f)
    for (name, col), codes in _BLIND_CODES_W2.items():
        df = files[name]
        cand = np.asarray([i for i in range(len(df)) if i not in used[name]], dtype=np.int64)
        rows = pick_rows(rng, cand, dp.special_code * len(df) / max(len(cand), 1))
        picked = np.asarray(codes, dtype=object)[rng.integers(0, len(codes), len(rows))]
        arr = df[col].to_numpy(object).copy()
        arr[rows] = [c if isinstance(c, str) else float(c) for c in picked]
        has_letter = any(isinstance(c, str) for c in picked)
        df[col] = arr if has_letter else pd.to_numeric(pd.Series(arr)).to_numpy(float)
        for r, c in zip(rows, picked, strict=True):
            record(
                name, r, col, "special_code_undocumented", f".{c}" if isinstance(c, str) else int(c)
            )
    loans = files["loans"]
    is_riel = loans["cur"].to_numpy() == 1
    riel = np.asarray(
        [i for i in np.flatnonzero(is_riel) if i not in used["loans"]], dtype=np.int64
    )
    rows = pick_rows(rng, riel, dp.riel_typed_as_dollars * int(is_riel.sum()) / max(len(riel), 1))
    cur = loans["cur"].to_numpy().copy()
    cur[rows] = 2
    loans["cur"] = cur
    for r in rows:
        record("loans", r, "cur", "riel_typed_as_dollars", 1)
